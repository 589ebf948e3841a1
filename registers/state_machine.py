"""The one mechanism behind every workflow's state machine: a table of legal moves and the check of a move.

A workflow declares its states (a TextChoices), the moves each state allows and
the message shown for an illegal one; its `*_transition` service asks
`machine.check(old, new)` before it changes anything and writes its own log row
after. Every machine built here is listed in `MACHINES`, so one test checks all
their tables, the ones to come (openness-act requests) included.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

MACHINES: list["StateMachine"] = []


@dataclass(frozen=True, eq=False)
class StateMachine:
    name: str
    states: type[models.TextChoices]
    transitions: Mapping[str, frozenset[str]]
    # A lazy message with the %(old)s and %(new)s placeholders, in the workflow's words.
    illegal_message: str

    def __post_init__(self):
        MACHINES.append(self)

    def targets(self, state: str) -> frozenset[str]:
        """Return the states a record in `state` may move to."""
        return self.transitions.get(state, frozenset())

    def allows(self, old: str, new: str) -> bool:
        return new in self.targets(old)

    def offered(self, state: str, moves: Mapping[str, str]) -> set[str]:
        """Return the actions (name → target state) that the table allows from `state`, for a page to offer."""
        targets = self.targets(state)
        return {action for action, target in moves.items() if target in targets}

    def label(self, state: str) -> str:
        try:
            return str(self.states(state).label)
        except ValueError:
            return state

    def check(self, old: str, new: str) -> None:
        """Raise ValidationError, in the reader's language, unless the table allows moving from `old` to `new`."""
        if not self.allows(old, new):
            raise ValidationError(
                self.illegal_message,
                code="illegal_transition",
                params={"old": self.label(old), "new": self.label(new)},
            )

    def problems(self) -> Iterable[str]:
        """Yield what is wrong with the table itself: unknown states, states without a row."""
        known = set(self.states.values)
        for state, targets in self.transitions.items():
            if state not in known:
                yield f"{self.name}: {state!r} is not a state"
            for target in targets - known:
                yield f"{self.name}: {state!r} moves to unknown {target!r}"
        for state in known - set(self.transitions):
            yield f"{self.name}: state {state!r} has no row"
