"""Recording: encoded packets logged as they come, one mixed Ogg Opus file after the call."""

from tests.helpers.voice_bots import goertzel_power
from signaling.media.recorder import PacketRecorder, mix_to_ogg, read_audio
from signaling.media.tones import encode_tone


def test_two_voices_end_up_in_one_file_each_at_its_time(tmp_path):
    customer, agent = encode_tone(440), encode_tone(880)
    now = [0.0]
    recorder = PacketRecorder(tmp_path / "call.packets", clock=lambda: now[0])
    for i in range(100):  # 2 s of the customer; the agent speaks during the second one
        now[0] = i * 0.02
        recorder.write(0, customer[i], 1000 + i * 960)
        if i >= 50:
            recorder.write(1, agent[i], 77 + i * 960)
    recorder.close()
    seconds = mix_to_ogg(tmp_path / "call.packets", tmp_path / "call.ogg")
    assert 1.9 < seconds < 2.2
    assert not (tmp_path / "call.packets").exists()
    samples = read_audio(tmp_path / "call.ogg")
    first, second = samples[12000:24000], samples[60000:84000]
    assert goertzel_power(first, 440) > 100 * goertzel_power(first, 880)
    assert goertzel_power(second, 880) > 1e4 and goertzel_power(second, 440) > 1e4


def test_a_call_re_anchored_appends_to_the_same_log_and_each_part_plays_at_its_time(tmp_path):
    """A second recorder (the call's new anchor) continues the log; new RTP timestamps, placed by arrival."""
    tone = encode_tone(440)
    now = [1000.0]
    first = PacketRecorder(tmp_path / "call.packets", clock=lambda: now[0])
    for i in range(50):  # 1 s
        now[0] = 1000.0 + i * 0.02
        first.write(0, tone[i], 5 + i * 960)
    first.close()  # the first anchor is gone; 2 s of nothing
    second = PacketRecorder(tmp_path / "call.packets", clock=lambda: now[0])
    for i in range(50):  # 1 s more, another stream (another SSRC, another timestamp base)
        now[0] = 1003.0 + i * 0.02
        second.write(0, tone[i], 3_000_000_000 + i * 960)
    second.close()
    seconds = mix_to_ogg(tmp_path / "call.packets", tmp_path / "call.ogg")
    assert 3.9 < seconds < 4.2
    samples = read_audio(tmp_path / "call.ogg")
    gap, before, after = samples[72000:120000], samples[12000:36000], samples[156000:180000]
    assert goertzel_power(before, 440) > 1e4 and goertzel_power(after, 440) > 1e4
    assert goertzel_power(gap, 440) < goertzel_power(before, 440) / 100


def test_the_mixdown_works_per_packet_not_per_sample(tmp_path):
    """The mix is summed a packet at a time (numpy), not a Python step per sample: a Python loop over
    48,000 samples a second cost more CPU than the call's transcoding, holding the GIL from the loop."""
    import sys

    tone = encode_tone(440)
    recorder = PacketRecorder(tmp_path / "call.packets", clock=lambda: 0.0)
    for i in range(500):  # 10 s, two voices: 1,000 packets, 960,000 samples decoded
        recorder.write(0, tone[i % 100], i * 960)
        recorder.write(1, tone[i % 100], i * 960)
    recorder.close()
    python_steps = [0]

    def count(frame, event, arg):
        if event == "call":
            python_steps[0] += 1

    sys.setprofile(count)
    try:
        seconds = mix_to_ogg(tmp_path / "call.packets", tmp_path / "call.ogg")
    finally:
        sys.setprofile(None)
    assert 9.9 < seconds < 10.1
    assert python_steps[0] < 20 * 1000  # a few calls per packet; per sample it was over 960,000
