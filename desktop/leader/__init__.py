"""The leader: the one process that runs the router, announces offers and keeps the wall (service.py), and the client every process uses to reach it."""
