"""The records the engine and a store exchange: definitions, instances and the index rows.

Re-exported by :mod:`liucheng.engine.ports`, the public home of these names; only additions are
made (no renames), so store implementations stay valid.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INDEX_KINDS",
    "REVISIONED_KINDS",
    "AssignmentCursorRecord",
    "AttachmentRecord",
    "BufferedMessage",
    "CommentRecord",
    "DefinitionRecord",
    "DeploymentRecord",
    "ExternalTaskRecord",
    "HistoryEvent",
    "IncidentRecord",
    "InstanceRecord",
    "JobRecord",
    "OrgRevisionRecord",
    "SlaClockRecord",
    "SubscriptionRecord",
    "TaskRecord",
    "VariableRecord",
]


@dataclass(slots=True)
class DeploymentRecord:
    """One deployment: a set of resources deployed together.

    Attributes:
        id: Deployment id.
        name: Human name (e.g. the first file name).
        deployed_at: When it was deployed.
        resources: Resource name -> content (BPMN/DMN XML bytes).
    """

    id: str
    name: str
    deployed_at: _dt.datetime
    resources: dict[str, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class DefinitionRecord:
    """One version of a process (``kind="bpmn"``) or decision (``kind="dmn"``) definition.

    Attributes:
        id: Definition id (``key:version:deployment``), unique.
        key: The process or decision id in the model.
        version: 1, 2, ... per key.
        kind: ``"bpmn"`` or ``"dmn"``.
        name: Human name of the process/decision.
        deployment_id: Deployment it came with.
        resource_name: File name within the deployment.
        deployed_at: Deployment time.
    """

    id: str
    key: str
    version: int
    kind: str
    name: str | None
    deployment_id: str
    resource_name: str
    deployed_at: _dt.datetime


@dataclass(slots=True)
class InstanceRecord:
    """A live process instance: index columns plus the state document.

    Attributes:
        id: Process instance id.
        definition_id: The definition version it runs on.
        key: Process key (id in the model).
        business_key: Business key given at start.
        parent_id: Calling process instance (call activity), if any.
        root_id: Outermost calling instance (``id`` itself when not called).
        state: ``"active"``, ``"completed"`` or ``"terminated"``.
        started_at: Start time.
        ended_at: End time (only for ended instances).
        revision: Optimistic-locking revision, incremented on every write.
        doc: The JSON-ready state document (opaque to the store).
        has_incident: Whether an incident is open on it.
    """

    id: str
    definition_id: str
    key: str
    business_key: str | None
    parent_id: str | None
    root_id: str
    state: str
    started_at: _dt.datetime
    ended_at: _dt.datetime | None
    revision: int
    doc: dict[str, Any]
    has_incident: bool = False


@dataclass(slots=True)
class TaskRecord:
    """A user task waiting for a person.

    Attributes:
        id: Task id.
        instance_id: Process instance it belongs to.
        root_id: Root process instance.
        definition_id: Definition version.
        element_id: Activity id in the model.
        element_instance_id: Element instance (token) id inside the instance state.
        name: Task name.
        assignee: Assigned person.
        candidate_users: Persons that may claim it.
        candidate_groups: Groups whose members may claim it.
        created_at: Creation time.
        seq: Creation order within the instance.
        due_at: Due date, if any.
        priority: Priority (50 default).
        form_key: Form reference, if any.
        owner: The person who delegated the task (keeps ownership; set while delegated).
        delegation: ``"pending"`` while delegated, ``"resolved"`` once the delegate resolved it.
        follow_up_at: Follow-up date, if any.
        process_key: Process id of the definition (for task lists).
        lane: Name of the lane the task lies in, if any.
        role: Role responsible for the task (from the lane mapping of the organisation).
        description: Documentation of the task.
        claimed_at: When the current assignee claimed or got it.
        updated_at: Last change (assignment, delegation, priority).
        effort: Expected effort (``liucheng:effort``; weights open work for least-loaded).
    """

    id: str
    instance_id: str
    root_id: str
    definition_id: str
    element_id: str
    element_instance_id: str
    name: str | None
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]
    created_at: _dt.datetime
    seq: int
    due_at: _dt.datetime | None = None
    priority: int = 50
    form_key: str | None = None
    owner: str | None = None
    delegation: str | None = None
    follow_up_at: _dt.datetime | None = None
    process_key: str | None = None
    lane: str | None = None
    role: str | None = None
    description: str | None = None
    claimed_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    effort: float = 1.0


@dataclass(slots=True)
class JobRecord:
    """A job: a timer, or an asynchronous continuation (save point).

    Attributes:
        id: Job id; also the idempotency key handed to handlers.
        instance_id: Process instance (None for timer start events).
        root_id: Root process instance (None for timer start events).
        definition_id: Definition version.
        element_id: Element the job belongs to (timer event, async activity).
        element_instance_id: Element instance that owns the job (None for timer start events).
        kind: ``"timer"``, ``"async-before"``, ``"async-after"`` or ``"timer-start"``.
        due_at: When it becomes executable.
        retries: Attempts left; at 0 an incident is open and the job is not executed.
        lock_owner: Worker holding the lease, if any.
        lock_expires_at: When the lease expires.
        exclusive: Exclusive jobs of one instance never run concurrently.
        priority: Higher runs first.
        created_at: Creation time.
        seq: Creation order within the instance.
        error: Last failure message.
        data: Kind-specific data (e.g. timer repetitions left).
    """

    id: str
    instance_id: str | None
    root_id: str | None
    definition_id: str
    element_id: str
    element_instance_id: str | None
    kind: str
    due_at: _dt.datetime
    retries: int = 3
    lock_owner: str | None = None
    lock_expires_at: _dt.datetime | None = None
    exclusive: bool = True
    priority: int = 0
    created_at: _dt.datetime | None = None
    seq: int = 0
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SubscriptionRecord:
    """A waiting message or signal catch (``instance_id`` None: a start event of a definition).

    Attributes:
        id: Subscription id.
        kind: ``"message"`` or ``"signal"``.
        name: Message or signal name (already evaluated).
        correlation_key: Correlation key value (messages), if any.
        instance_id: Process instance waiting, or None for start events.
        root_id: Root process instance.
        definition_id: Definition version.
        element_id: The catching event (or receive task).
        element_instance_id: Element instance that owns the subscription.
        created_at: Creation time.
        seq: Creation order.
    """

    id: str
    kind: str
    name: str
    correlation_key: str | None
    instance_id: str | None
    root_id: str | None
    definition_id: str
    element_id: str
    element_instance_id: str | None
    created_at: _dt.datetime
    seq: int = 0


@dataclass(slots=True)
class ExternalTaskRecord:
    """A unit of work for an external worker (fetch-and-lock by topic).

    Attributes:
        id: External task id.
        topic: Topic name.
        instance_id: Process instance.
        root_id: Root process instance.
        definition_id: Definition version.
        element_id: Service task id.
        element_instance_id: Element instance waiting for it.
        created_at: Creation time.
        seq: Creation order.
        retries: Retries left (None: never failed).
        lock_owner: Worker holding the lock.
        lock_expires_at: Lock expiry.
        error_message: Last failure message.
        priority: Higher is fetched first.
        variables: Snapshot of the variables visible to the task when created.
    """

    id: str
    topic: str
    instance_id: str
    root_id: str
    definition_id: str
    element_id: str
    element_instance_id: str
    created_at: _dt.datetime
    seq: int = 0
    retries: int | None = None
    lock_owner: str | None = None
    lock_expires_at: _dt.datetime | None = None
    error_message: str | None = None
    priority: int = 0
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class IncidentRecord:
    """An open incident: a step that failed and waits for a person.

    Attributes:
        id: Incident id.
        instance_id: Process instance.
        root_id: Root process instance.
        definition_id: Definition version.
        element_id: The failing element.
        element_instance_id: Its element instance.
        kind: ``"failed-job"``, ``"failed-external-task"``, ``"failed-step"``.
        message: The error.
        created_at: When it was opened.
        job_id: Failed job, if any.
        external_task_id: Failed external task, if any.
        variables: Variables in scope at the failure.
    """

    id: str
    instance_id: str
    root_id: str
    definition_id: str
    element_id: str
    element_instance_id: str
    kind: str
    message: str
    created_at: _dt.datetime
    job_id: str | None = None
    external_task_id: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class VariableRecord:
    """A process-level variable, indexed for queries.

    Attributes:
        id: ``instance_id + "/" + name``.
        instance_id: Process instance.
        name: Variable name.
        value: JSON-ready value.
    """

    id: str
    instance_id: str
    name: str
    value: Any


@dataclass(slots=True)
class BufferedMessage:
    """A message published before any subscription matched, kept until ``expires_at``.

    Attributes:
        id: Message id.
        name: Message name.
        correlation_key: Correlation key, if any.
        variables: Payload.
        created_at: Publication time.
        expires_at: End of its time to live.
    """

    id: str
    name: str
    correlation_key: str | None
    variables: dict[str, Any]
    created_at: _dt.datetime
    expires_at: _dt.datetime


@dataclass(slots=True)
class HistoryEvent:
    """One append-only history entry.

    Kinds: ``process_start``, ``process_end`` (data: state), ``activity_start``,
    ``activity_end`` (data: ``completed`` bool, ``state``), ``task_create``, ``task_assign``,
    ``task_complete``, ``variable`` (data: name, value, scope), ``incident_open``,
    ``incident_resolve``, ``job_fail``, ``message``, ``signal``. People's work (docs/work.md) adds
    ``assignment``, ``task_claim``, ``task_unclaim``, ``task_delegate``, ``task_resolve``,
    ``task_update``, ``task_comment``, ``task_attachment``, ``sla_stop``, ``sla_paused``,
    ``sla_resumed``, ``sla_warning``, ``sla_breach``, ``escalation`` and
    ``authorization_refused``.

    Attributes:
        kind: Event kind (above).
        at: Timestamp.
        instance_id: Process instance.
        definition_id: Definition version.
        element_id: Model element, if any.
        element_type: BPMN type of the element (e.g. ``userTask``), if any.
        element_instance_id: Element instance, if any.
        actor: Acting person, if known.
        data: Kind-specific details.
        seq: Order within the command (the store may renumber globally).
    """

    kind: str
    at: _dt.datetime
    instance_id: str | None
    definition_id: str | None
    element_id: str | None = None
    element_type: str | None = None
    element_instance_id: str | None = None
    actor: str | None = None
    data: dict[str, Any] | None = None
    seq: int = 0


@dataclass(slots=True)
class CommentRecord:
    """A comment on a user task (kept after the task ends).

    Attributes:
        id: Comment id.
        task_id: The task.
        instance_id: Its process instance.
        author: Who wrote it.
        message: The text.
        created_at: When.
        seq: Order of creation.
    """

    id: str
    task_id: str
    instance_id: str | None
    author: str | None
    message: str
    created_at: _dt.datetime
    seq: int = 0


@dataclass(slots=True)
class AttachmentRecord:
    """A file or link attached to a user task (kept after the task ends).

    Attributes:
        id: Attachment id.
        task_id: The task.
        instance_id: Its process instance.
        author: Who attached it.
        name: File name or title.
        content_type: MIME type, if known.
        url: A link (instead of content).
        content: The bytes (instead of a link).
        description: Free text.
        created_at: When.
        seq: Order of creation.
    """

    id: str
    task_id: str
    instance_id: str | None
    author: str | None
    name: str
    content_type: str | None
    url: str | None
    content: bytes | None
    description: str | None
    created_at: _dt.datetime
    seq: int = 0


@dataclass(slots=True)
class SlaClockRecord:
    """A running SLA clock of a task or a process instance.

    Attributes:
        id: Clock id.
        name: The SLA definition's name.
        scope: ``"task"`` or ``"process"``.
        instance_id: Process instance.
        root_id: Root process instance.
        definition_id: Definition version.
        element_id: Task element (``None`` for process clocks).
        task_id: The task (``None`` for process clocks).
        occurrences: Lifecycle events ``[name, ISO instant]`` that drive the clock.
        fired_until: Escalation steps up to this instant have been fired.
        status: Last known status (``running``, ``paused``, ...).
        due_at: Last known due instant.
        created_at: When the clock was created.
        seq: Order of creation.
        data: Bookkeeping (open waits, escalation tasks created).
    """

    id: str
    name: str
    scope: str
    instance_id: str
    root_id: str
    definition_id: str
    element_id: str | None
    task_id: str | None
    occurrences: list[Any]
    fired_until: _dt.datetime | None
    status: str
    due_at: _dt.datetime | None
    created_at: _dt.datetime
    seq: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AssignmentCursorRecord:
    """The round-robin cursor of one candidate pool.

    Attributes:
        id: The pool key (``role:agent``, ``groups:a,b``, ...).
        person: The last person assigned from the pool.
        updated_at: When it moved.
        revision: Optimistic-locking revision (see :data:`REVISIONED_KINDS`): a command writes
            the revision it read plus one (1 for a new cursor).
    """

    id: str
    person: str
    updated_at: _dt.datetime
    revision: int = 0


#: Index-row kinds whose writes are revision-checked like instances: a record with
#: ``revision == 1`` is inserted and fails if the row exists; any other is written only over
#: the stored ``revision - 1``. Either failure is a :class:`~liucheng.errors.ConcurrencyError`
#: (the command retries), so two engines never both move a round-robin cursor from one state.
REVISIONED_KINDS: frozenset[str] = frozenset({"assignment_cursor"})


#: Kinds of index rows a change set carries, with their record class.
INDEX_KINDS: dict[str, type[Any]] = {
    "task": TaskRecord,
    "job": JobRecord,
    "subscription": SubscriptionRecord,
    "external_task": ExternalTaskRecord,
    "incident": IncidentRecord,
    "variable": VariableRecord,
    "message": BufferedMessage,
    "comment": CommentRecord,
    "attachment": AttachmentRecord,
    "sla_clock": SlaClockRecord,
    "assignment_cursor": AssignmentCursorRecord,
}


@dataclass(slots=True)
class OrgRevisionRecord:
    """One stored revision of the organisation (docs/org.md, "The organisation in the database").

    Attributes:
        revision: 1, 2, ...; each import or edit makes the next one.
        doc: The organisation as ``liucheng.org.organisation_to_dict`` makes it (JSON-ready).
        created_at: When it was stored.
        author: Who imported or edited it, if known.
        comment: What changed (``"import org.yaml"``, ``"add_person zoe"``), if known.
    """

    revision: int
    doc: dict[str, Any]
    created_at: _dt.datetime
    author: str | None = None
    comment: str | None = None
