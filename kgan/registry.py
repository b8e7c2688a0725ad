"""A name -> class lookup shared by losses, regularisers, architectures and metrics."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


def constructor_config(obj: Any) -> dict:
    """`obj`'s constructor arguments, read back from its attributes of the same names: the
    config `Registry.get` rebuilds it from, so a class's `__init__` signature is its config.

    Example:
        >>> class Penalty:
        ...     def __init__(self, weight=1.0, every=1):
        ...         self.weight, self.every = float(weight), int(every)
        >>> constructor_config(Penalty(weight=2))
        {'weight': 2.0, 'every': 1}
    """
    parameters = inspect.signature(type(obj).__init__).parameters.values()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name: getattr(obj, p.name) for p in list(parameters)[1:] if p.kind in named}


class Registry(Generic[T]):
    """Maps string names to classes of one kind; `get` fails listing the valid names.

    Example:
        >>> losses = Registry("loss")
        >>> @losses.register("hinge")
        ... class Hinge: ...
        >>> losses.get("hinge")
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, type] = {}

    def register(self, name: str) -> Callable[[type], type]:
        def decorator(cls: type) -> type:
            if name in self._classes:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            cls.name = name
            self._classes[name] = cls
            return cls

        return decorator

    def names(self) -> list[str]:
        return sorted(self._classes)

    def cls(self, name: str) -> type:
        try:
            return self._classes[name]
        except KeyError:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}"
            ) from None

    def get(self, identifier: Any, **kwargs: Any) -> T:
        """An instance from a name (with constructor kwargs), a config dict, or an instance."""
        if isinstance(identifier, str):
            return self.cls(identifier)(**kwargs)
        if isinstance(identifier, dict) and "name" in identifier:
            config = dict(identifier)
            return self.cls(config.pop("name"))(**config, **kwargs)
        if any(isinstance(identifier, c) for c in self._classes.values()):
            return identifier
        raise ValueError(
            f"Expected a {self.kind} name ({', '.join(self.names())}) or instance, "
            f"got {identifier!r}"
        )
