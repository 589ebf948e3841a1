"""Every workflow's state machine, through the one mechanism: a sound table, one check, translated refusals."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

# Importing the workflows builds their machines.
import openness.workflow
import privacy.requests.workflow
import privacy.retention.purge
import privacy.rights.objection_weighing
import privacy.rights.restriction_lift
import registers.access_review
from registers.state_machine import MACHINES

WORKFLOWS = {
    "data-subject request": privacy.requests.workflow.MACHINE,
    "purge run": privacy.retention.purge.RUN,
    "access review": registers.access_review.CAMPAIGN,
    "access review item": registers.access_review.ITEM,
    "document request": openness.workflow.MACHINE,
    "objection weighing": privacy.rights.objection_weighing.MACHINE,
    "restriction lift": privacy.rights.restriction_lift.MACHINE,
}


def test_every_workflow_uses_the_shared_machine():
    assert set(WORKFLOWS.values()) <= set(MACHINES)
    assert {machine.name for machine in MACHINES} >= set(WORKFLOWS)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda machine: machine.name)
def test_the_table_names_only_states_and_gives_every_state_a_row(machine):
    assert list(machine.problems()) == []


@pytest.mark.parametrize("machine", MACHINES, ids=lambda machine: machine.name)
def test_every_move_outside_the_table_is_refused_in_the_readers_language(machine):
    states = machine.states.values
    for old in states:
        for new in states:
            if machine.allows(old, new):
                machine.check(old, new)
                continue
            with translation.override("fi"), pytest.raises(ValidationError) as error:
                machine.check(old, new)
            assert error.value.code == "illegal_transition"
            with translation.override("fi"):
                message = error.value.messages[0]
                assert str(machine.states(old).label) in message
                assert str(machine.states(new).label) in message
