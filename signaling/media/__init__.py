"""Media: the voice anchor (one server-side aiortc peer per participant).

- :mod:`.hearing` who hears whom, as a pure function of a call's state
- :mod:`.tap`     the one place that uses aiortc's private API (encoded packets in)
- :mod:`.forward` a track that sends encoded Opus packets as they come (packets out)
- :mod:`.tones`   pre-encoded Opus tones (hold music), encoded once per process
- :mod:`.candidates` which remote ICE candidates the anchor may send checks to
- :mod:`.anchor`  calls, legs and their RTCPeerConnections; errors in :mod:`.errors`
- :mod:`.recorder` packets logged during the call, one mixed Ogg Opus file after it

Who may do what on which call, and signaling between processes, live in
:mod:`desktop.voice`. This package imports neither the hub nor the bus (an
import-linter contract): it is fed offers and state, and returns answers.
"""
