"""The hub's room handlers: what customers, agents and supervisors may do on their sockets."""

from desktop.sockets.agent import DISPOSITIONS, AgentHandler
from desktop.sockets.customer import CustomerHandler
from desktop.sockets.presence import Presence
from desktop.sockets.supervisor import SupervisorHandler

__all__ = ["AgentHandler", "CustomerHandler", "DISPOSITIONS", "Presence", "SupervisorHandler"]
