"""Who is asking: signed tokens (``tokens``), staff sessions and role checks (``staff``), and what
browsers are shown of a staff member (``agents``). Used by the web pages, the REST API, the
sockets, voice and co-browse alike, so none of them imports another's layer to check a login."""
