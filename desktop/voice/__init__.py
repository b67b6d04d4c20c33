"""Voice calls on the desk: who may offer, control and join which call, and what is kept.

- :mod:`.feature`  :class:`~.feature.VoiceFeature`, voice on the hub's sockets (offer, control, join)
- :mod:`.bus`      requests to the process that anchors a call, over the bus; its lease
- :mod:`.adoption` a call whose anchoring process died is claimed and rebuilt elsewhere
- :mod:`.records`  the call's timeline events and its mixed recording
- :mod:`.quality`  each leg's RTT, jitter and loss, for the wall
- :mod:`.http`     the recordings, served to staff

The media itself (aiortc peers, who hears whom, recording packets) is
:mod:`signaling.media`, which knows nothing of the desk.
"""
