"""Who hears whom, as a pure function of the call's state."""

from signaling.media.hearing import EXTRA, MAIN, CallState, Mode, Role, Source, who_hears

C, A, S, HOLD, REC = Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR, Source.HOLD, Source.RECORDER


def hears(state: CallState) -> set[tuple[str, str, int]]:
    return {(source, dst, slot) for source, targets in who_hears(state).items() for dst, slot in targets}


def test_two_parties_hear_each_other():
    assert hears(CallState()) == {(C, A, MAIN), (A, C, MAIN)}


def test_muted_party_is_heard_by_nobody_nor_recorded():
    assert hears(CallState(muted=frozenset({A}), recording=True)) == {(C, A, MAIN), (C, REC, 0)}


def test_hold_plays_the_tone_to_the_customer_and_cuts_both_ways():
    assert hears(CallState(held=True)) == {(HOLD, C, MAIN)}


def test_listen_whisper_barge():
    listen = {(C, A, MAIN), (A, C, MAIN), (C, S, MAIN), (A, S, EXTRA)}
    assert hears(CallState(supervisor=Mode.LISTEN)) == listen
    assert hears(CallState(supervisor=Mode.WHISPER)) == listen | {(S, A, EXTRA)}
    assert hears(CallState(supervisor=Mode.BARGE)) == listen | {(S, A, EXTRA), (S, C, EXTRA)}


def test_recording_takes_each_voice_on_its_own_track():
    assert hears(CallState(recording=True)) == {(C, A, MAIN), (A, C, MAIN), (C, REC, 0), (A, REC, 1)}


def test_a_barging_supervisor_is_not_heard_by_a_held_customer():
    assert (S, C, EXTRA) not in hears(CallState(held=True, supervisor=Mode.BARGE))


def test_a_ringing_phone_without_early_media_rings_back_to_the_agent_only():
    from signaling.media.hearing import Source

    routes = who_hears(CallState(ringback=True))
    assert routes[Source.RINGBACK] == ((Role.AGENT, MAIN),)
    assert who_hears(CallState())[Source.RINGBACK] == ()
