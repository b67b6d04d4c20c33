"""Bot customers asking for callbacks and bot agents answering them, on a thread and event
loop of their own, while a test does something else (restarts processes, drives browsers).

Every bot reconnects as the browsers' common/socket.js does (with jitter, resuming), and each
command is retried with its one id across reconnects (the server applies an id once). What
happened to every callback is kept, so a test can say none was lost or taken twice.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import secrets
import threading
import time

import httpx
import websockets

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot

__all__ = ["CallbackLoad"]


class CallbackLoad:
    """Customers ask for a callback on ``queue`` every ``every`` seconds; ``agents`` (demo
    usernames) accept, end and wrap up each offer they get. Use as a context manager (it starts
    once the agents are available), then :meth:`finish`.

    ``asked`` the callbacks asked for, ``completed`` those answered and wrapped up,
    ``accepted`` how many accepts of each succeeded, ``offers`` each one's distinct offer ids,
    ``trace`` what the bots saw of each (a loss says where it stopped)."""

    def __init__(self, base_url: str, *, agents: tuple[str, ...], queue: str, every: float = 0.5):
        self.base_url, self.agents, self.queue, self.every = base_url, agents, queue, every
        self.asked: list[str] = []
        self.completed: set[str] = set()
        self.accepted: collections.Counter[str] = collections.Counter()
        self.offers: collections.defaultdict[str, set[str]] = collections.defaultdict(set)
        self.trace: collections.defaultdict[str, list[str]] = collections.defaultdict(list)
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._within = 30.0
        self._thread = threading.Thread(target=self._run, daemon=True, name="callback-load")  # inherits a netns

    def __enter__(self) -> "CallbackLoad":
        self._thread.start()
        if not self._ready.wait(30) or self.error:
            self._stopping.set()
            raise AssertionError(f"the bot agents never became available: {self.error!r}")
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._thread.join(self._within + 15)

    def finish(self, *, within: float = 30.0) -> None:
        """Stop asking; wait (at most ``within`` seconds) until every callback asked for is
        completed, then close the bots. Raises what a bot agent failed on."""
        self._within = within
        self._stopping.set()
        self._thread.join(within + 15)
        if self._thread.is_alive():
            raise AssertionError("the bots did not stop")
        if self.error:
            raise self.error

    def lost(self) -> dict[str, list[str]]:
        """The callbacks asked for and never completed, with their traces."""
        return {c: self.trace.get(c, ["never offered"]) for c in self.asked if c not in self.completed}

    def _note(self, callback_id: str, what: str) -> None:
        self.trace[callback_id].append(f"{time.monotonic():.1f} {what}")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            self.error = error
            self._ready.set()

    async def _main(self) -> None:
        bots: list = []
        tasks: list[asyncio.Task] = []
        try:
            agents = []
            for name in self.agents:
                agent = await AgentBot.login(self.base_url, name, DEMO_PASSWORD)
                agent.username = name
                agents.append(agent)
                bots.append(agent)
                await self._until_done(agent, "set_state", state="available")
            tasks += [asyncio.create_task(self._reconnecting(agent)) for agent in agents]
            workers = [asyncio.create_task(self._answer(agent)) for agent in agents]
            tasks += workers
            self._ready.set()
            n = 0
            while not self._stopping.is_set():
                n += 1
                customer = await self._new_customer()
                bots.append(customer)
                tasks.append(asyncio.create_task(self._reconnecting(customer)))
                ack = await self._until_done(customer, "call_me", name=f"Load {n}", queue=self.queue)
                assert "failed" not in ack, ack
                self.asked.append(ack["callback_id"])
                await asyncio.sleep(self.every)
            deadline = time.monotonic() + self._within
            while len(self.completed) < len(self.asked) and time.monotonic() < deadline:
                for worker in workers:  # an agent that gave up says why
                    if worker.done() and worker.exception():
                        raise worker.exception()
                await asyncio.sleep(0.2)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for bot in bots:
                with contextlib.suppress(Exception):
                    await bot.close()

    async def _reconnecting(self, bot) -> None:
        while True:
            with contextlib.suppress(Exception):
                await bot.wait_closed(timeout=3600)
            while True:
                await asyncio.sleep(random.uniform(0.2, 1.0))
                try:
                    await bot.connect(resume=True)
                    break
                except Exception:
                    continue

    async def _until_done(self, bot, type_: str, **fields) -> dict:
        """A command retried, with its one id, across reconnects."""
        command_id = f"load-{secrets.token_hex(6)}"
        for _ in range(60):
            try:
                return await bot.command(type_, id=command_id, timeout=3, **fields)
            except CommandFailed as failed:
                return {"failed": failed.code}
            except Exception:
                await asyncio.sleep(0.5)
        raise AssertionError(f"{type_} never went through")

    async def _answer(self, agent) -> None:
        done: set[str] = set()
        while True:
            offers = [m["offer"] for m in list(agent.messages) if m.get("type") == "offer"]
            if agent.welcome and agent.welcome.get("offer"):
                offers.append(agent.welcome["offer"])
            fresh = [o for o in offers if o["offer_id"] not in done]
            if not fresh:
                await asyncio.sleep(0.1)
                continue
            offer = fresh[0]
            done.add(offer["offer_id"])
            callback_id = offer["callback_id"]
            self.offers[callback_id].add(offer["offer_id"])
            self._note(callback_id, f"offer {offer['offer_id']} to {agent.username}")
            reply = await self._until_done(agent, "accept", offer_id=offer["offer_id"])
            self._note(callback_id, f"accept by {agent.username}: {reply}")
            if "failed" in reply:
                continue  # withdrawn or taken elsewhere: the router offers it again
            self.accepted[callback_id] += 1
            for command, fields in (("end", {}), ("wrap_up", {"disposition": "Resolved", "note": ""})):
                reply = await self._until_done(agent, command, callback_id=callback_id, **fields)
                self._note(callback_id, f"{command} by {agent.username}: {reply}")
            self.completed.add(callback_id)

    async def _new_customer(self) -> CustomerBot:
        """As the widget does: a 502 while a process restarts behind nginx is asked again."""
        for _ in range(20):
            try:
                return await CustomerBot.start(self.base_url, origin=self.base_url)
            except (httpx.HTTPError, OSError, websockets.WebSocketException):
                await asyncio.sleep(random.uniform(0.5, 1.5))
        raise AssertionError("no visitor token through nginx for 20 tries")
