"""RTP port pairs held from the offer to the bind (signaling/media/sip/rtp_ports.py): two
processes on one machine never get the same pair, a pair another program holds is skipped."""

from __future__ import annotations

import socket

import pytest

from signaling.media.sip.rtp_ports import RtpPorts


def free_range(pairs: int) -> tuple[int, int]:
    """A range of ``pairs`` even/odd pairs nobody holds now."""
    for low in range(42000, 48000, 2 * pairs):
        probes = []
        try:
            for port in range(low, low + 2 * pairs):
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probes.append(probe)
                probe.bind(("", port))
            return low, low + 2 * pairs
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    pytest.skip("no free port range")


def test_two_processes_with_one_range_never_get_the_same_pair():
    port_range = free_range(4)
    first, second = RtpPorts(port_range), RtpPorts(port_range)  # two otodesk processes
    mine = [first.allocate() for _ in range(2)]
    theirs = [second.allocate() for _ in range(2)]
    assert len(set(mine + theirs)) == 4  # held while the phones ring: nobody else may pick them
    with pytest.raises(RuntimeError, match="no free RTP port pair"):
        second.allocate()
    first.release(mine[0])
    assert second.allocate() == mine[0]


def test_a_pair_is_let_go_for_the_calls_own_bind_and_stays_ours_until_released():
    port_range = free_range(2)
    ports = RtpPorts(port_range)
    port = ports.allocate()
    ports.take(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        rtp.bind(("127.0.0.1", port))  # the RTP session binds it now
        other = ports.allocate()
        assert other != port  # taken, not free: not picked again while the call lasts
        ports.release(other)
    ports.release(port)
    assert {ports.allocate(), ports.allocate()} == set(range(port_range[0], port_range[1], 2))


def test_a_pair_another_program_holds_is_skipped():
    port_range = free_range(2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("", port_range[0] + 1))  # the RTCP half of the first pair
        ports = RtpPorts(port_range)
        assert ports.allocate() == port_range[0] + 2
        with pytest.raises(RuntimeError):
            ports.allocate()
