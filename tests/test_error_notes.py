"""`add_note`: a note on an error being re-raised where Python has notes (3.11+), nothing on 3.10."""
from kerasrnn_torch._checks import add_note


def test_a_note_is_added_where_python_has_notes():
    error = ValueError("bad")
    add_note(error, "(where)")
    assert getattr(error, "__notes__", ["(where)"]) == ["(where)"]


def test_an_error_without_add_note_is_left_as_it_is():
    class Old:          # what Python 3.10's exceptions look like here: no add_note
        pass
    error = Old()
    add_note(error, "(where)")
    assert not hasattr(error, "__notes__")

