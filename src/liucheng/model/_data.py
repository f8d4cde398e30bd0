"""Data: item-aware elements, I/O specifications, data associations, data objects and stores."""

# ruff: noqa: RUF009  (field() helpers carrying the XML mapping are the dataclass defaults)

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._base import (
    BaseElement,
    Expression,
    FlowElement,
    RootElement,
    attr,
    child,
    children,
    text1,
    texts,
)

__all__ = [
    "Assignment",
    "DataAssociation",
    "DataInput",
    "DataInputAssociation",
    "DataObject",
    "DataObjectReference",
    "DataOutput",
    "DataOutputAssociation",
    "DataState",
    "DataStore",
    "DataStoreReference",
    "InputOutputSpecification",
    "InputSet",
    "OutputSet",
    "Property",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DataState(BaseElement):
    """A ``dataState`` of a data object, input or output."""

    TAG: ClassVar[str] = "dataState"

    name: str | None = attr("name")


@dataclass(frozen=True, slots=True, kw_only=True)
class Property(BaseElement):
    """A ``property`` of a process, activity or event."""

    TAG: ClassVar[str] = "property"

    name: str | None = attr("name")
    item_subject_ref: str | None = attr("itemSubjectRef")
    data_state: DataState | None = child("dataState", "DataState")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataInput(BaseElement):
    """A ``dataInput`` (also used for multi-instance ``inputDataItem``)."""

    TAG: ClassVar[str] = "dataInput"

    name: str | None = attr("name")
    item_subject_ref: str | None = attr("itemSubjectRef")
    is_collection: bool | None = attr("isCollection", "bool")
    data_state: DataState | None = child("dataState", "DataState")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataOutput(BaseElement):
    """A ``dataOutput`` (also used for multi-instance ``outputDataItem``)."""

    TAG: ClassVar[str] = "dataOutput"

    name: str | None = attr("name")
    item_subject_ref: str | None = attr("itemSubjectRef")
    is_collection: bool | None = attr("isCollection", "bool")
    data_state: DataState | None = child("dataState", "DataState")


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSet(BaseElement):
    """An ``inputSet`` of an I/O specification."""

    TAG: ClassVar[str] = "inputSet"

    name: str | None = attr("name")
    data_input_refs: tuple[str, ...] = texts("dataInputRefs")
    optional_input_refs: tuple[str, ...] = texts("optionalInputRefs")
    while_executing_input_refs: tuple[str, ...] = texts("whileExecutingInputRefs")
    output_set_refs: tuple[str, ...] = texts("outputSetRefs")


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSet(BaseElement):
    """An ``outputSet`` of an I/O specification."""

    TAG: ClassVar[str] = "outputSet"

    name: str | None = attr("name")
    data_output_refs: tuple[str, ...] = texts("dataOutputRefs")
    optional_output_refs: tuple[str, ...] = texts("optionalOutputRefs")
    while_executing_output_refs: tuple[str, ...] = texts("whileExecutingOutputRefs")
    input_set_refs: tuple[str, ...] = texts("inputSetRefs")


@dataclass(frozen=True, slots=True, kw_only=True)
class InputOutputSpecification(BaseElement):
    """An ``ioSpecification``: the data inputs and outputs of an activity or process."""

    TAG: ClassVar[str] = "ioSpecification"

    data_inputs: tuple[DataInput, ...] = children("dataInput", "DataInput")
    data_outputs: tuple[DataOutput, ...] = children("dataOutput", "DataOutput")
    input_sets: tuple[InputSet, ...] = children("inputSet", "InputSet")
    output_sets: tuple[OutputSet, ...] = children("outputSet", "OutputSet")


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment(BaseElement):
    """An ``assignment`` (from/to expressions) inside a data association."""

    TAG: ClassVar[str] = "assignment"

    from_: Expression | None = child("from", "Expression")
    to: Expression | None = child("to", "Expression")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataAssociation(BaseElement):
    """Common shape of data input and output associations."""

    source_refs: tuple[str, ...] = texts("sourceRef")
    target_ref: str | None = text1("targetRef")
    transformation: Expression | None = child("transformation", "Expression")
    assignments: tuple[Assignment, ...] = children("assignment", "Assignment")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataInputAssociation(DataAssociation):
    """A ``dataInputAssociation``."""

    TAG: ClassVar[str] = "dataInputAssociation"


@dataclass(frozen=True, slots=True, kw_only=True)
class DataOutputAssociation(DataAssociation):
    """A ``dataOutputAssociation``."""

    TAG: ClassVar[str] = "dataOutputAssociation"


@dataclass(frozen=True, slots=True, kw_only=True)
class DataObject(FlowElement):
    """A ``dataObject`` (a flow element of a process or subprocess)."""

    TAG: ClassVar[str] = "dataObject"

    item_subject_ref: str | None = attr("itemSubjectRef")
    is_collection: bool | None = attr("isCollection", "bool")
    data_state: DataState | None = child("dataState", "DataState")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataObjectReference(FlowElement):
    """A ``dataObjectReference``."""

    TAG: ClassVar[str] = "dataObjectReference"

    item_subject_ref: str | None = attr("itemSubjectRef")
    data_object_ref: str | None = attr("dataObjectRef")
    data_state: DataState | None = child("dataState", "DataState")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataStoreReference(FlowElement):
    """A ``dataStoreReference``."""

    TAG: ClassVar[str] = "dataStoreReference"

    item_subject_ref: str | None = attr("itemSubjectRef")
    data_store_ref: str | None = attr("dataStoreRef")
    data_state: DataState | None = child("dataState", "DataState")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataStore(RootElement):
    """A ``dataStore`` root element."""

    TAG: ClassVar[str] = "dataStore"

    name: str | None = attr("name")
    capacity: int | None = attr("capacity", "int")
    is_unlimited: bool | None = attr("isUnlimited", "bool")
    item_subject_ref: str | None = attr("itemSubjectRef")
    data_state: DataState | None = child("dataState", "DataState")
