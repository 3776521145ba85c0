"""A user's custom layers: the ``custom_objects`` Python file of a campaign's own model,
mounted read-only and imported here, inside the job's container (the launcher never imports
it: whatever the file does, it does in the sandbox of one job)."""
import importlib.machinery
import importlib.util
import inspect

from jobs.errors import JobInputError

MODULE_NAME = "edgecompress_user_objects"


def custom_objects(spec):
    """name -> object for keras' load_model: the file's ``custom_objects`` dict when it defines
    one, else every class the file itself defines; None without a file."""
    path = (spec.get("custom_objects") or {}).get("path")
    if not path:
        return None
    try:
        # An explicit source loader: the file is mounted as /inputs/custom_objects, and
        # spec_from_file_location finds no loader for a name without .py.
        loader = importlib.machinery.SourceFileLoader(MODULE_NAME, path)
        module = importlib.util.module_from_spec(
            importlib.util.spec_from_loader(MODULE_NAME, loader))
        loader.exec_module(module)
    except Exception as error:  # the user's code may raise anything
        raise JobInputError("cannot import the custom_objects file ({}): {}: {}".format(
            path, type(error).__name__, str(error).strip().splitlines()[0]
            if str(error).strip() else ""))
    given = getattr(module, "custom_objects", None)
    if given is not None:
        if not isinstance(given, dict):
            raise JobInputError("custom_objects in the custom_objects file must be a dict "
                                "of name -> class or function")
        return dict(given)
    return dict((name, value) for name, value in vars(module).items()
                if inspect.isclass(value) and value.__module__ == MODULE_NAME)
