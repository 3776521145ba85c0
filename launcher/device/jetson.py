"""What a Jetson host tells about itself, parsed: the L4T release, the board, the power mode,
the JetPack release. Pure functions over text the host's files and tools print.

Power modes (nvpmodel -q prints "NV Power Mode: <name>" then the mode id):
- Jetson Nano: MAXN, id 0, is the 10 W maximum; 5W is id 1 (L4T R32.7 power guide).
- Jetson Xavier NX on JetPack 5.x: ids 0-8 are 15 W, 10 W and 20 W modes with 2, 4 or 6 cores
  and no MAXN; MODE_20W_6CORE, id 8, is the highest budget with every core online (the
  GPU's 1.1 GHz cap is the same in all 20 W modes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class L4tRelease:
    major: int  # 32
    revision: str  # "7.1"
    board: str | None  # the BSP's board family, e.g. t210ref

    def __str__(self) -> str:
        return f"R{self.major}.{self.revision}"

    @property
    def line(self) -> str:
        return f"R{self.major}"


@dataclass(frozen=True)
class PowerMode:
    name: str
    mode_id: int


@dataclass(frozen=True)
class Board:
    name: str
    model_pattern: str  # matched against /proc/device-tree/model
    max_mode: PowerMode
    small_memory: bool  # 4 GB or less: TensorFlow jobs need swap


BOARDS = (
    Board("Jetson Nano", r"\bJetson Nano\b", PowerMode("MAXN", 0), small_memory=True),
    Board("Jetson Xavier NX", r"\bJetson Xavier NX\b", PowerMode("MODE_20W_6CORE", 8),
          small_memory=False),
)


# The JetPack release each L4T release ships in (NVIDIA's JetPack archive); the L4T release is
# what a host can tell, the JetPack name is what people quote.
JETPACK_OF_L4T = {
    "R32.6.1": "4.6", "R32.7.1": "4.6.1", "R32.7.2": "4.6.2", "R32.7.3": "4.6.3",
    "R32.7.4": "4.6.4", "R32.7.5": "4.6.5", "R32.7.6": "4.6.6",
    "R35.1.0": "5.0.2", "R35.2.1": "5.1", "R35.3.1": "5.1.1", "R35.4.1": "5.1.2",
    "R35.5.0": "5.1.3", "R35.6.0": "5.1.4", "R35.6.1": "5.1.5",
}


# --- parsing -------------------------------------------------------------------------------


def parse_l4t_release(text: str | None) -> L4tRelease | None:
    """'# R32 (release), REVISION: 7.1, GCID: ..., BOARD: t210ref, ...' -> R32.7.1."""
    match = re.search(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)", text or "")
    if not match:
        return None
    board = re.search(r"BOARD:\s*([\w-]+)", text or "")
    return L4tRelease(int(match.group(1)), match.group(2).rstrip("."),
                      board.group(1) if board else None)


def parse_device_model(raw: str | bytes | None) -> str | None:
    """The device tree's model string ends in a NUL byte."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text.strip("\x00 \n") or None


def parse_nvpmodel(text: str | None) -> PowerMode | None:
    """`nvpmodel -q`: 'NV Power Mode: MAXN' then the id on a line of its own; warnings and
    'NV Fan Mode' lines may come first."""
    match = re.search(r"NV Power Mode:\s*(\S+)\s*\n\s*(\d+)\s*$", text or "", re.MULTILINE)
    return PowerMode(match.group(1), int(match.group(2))) if match else None


def meminfo_bytes(text: str | None, key: str) -> int | None:
    match = re.search(rf"^{re.escape(key)}:\s+(\d+) kB", text or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def jetpack_of(release: L4tRelease | None) -> str | None:
    return JETPACK_OF_L4T.get(str(release)) if release else None


def clocks_pinned(bounds: tuple[tuple[int, int], ...]) -> bool | None:
    """jetson_clocks pins every core's minimum frequency to its maximum (under the power
    mode's cap), so min == max on every core means it ran; None when nothing tells."""
    return all(low == high for low, high in bounds) if bounds else None


def docker_runtimes(info: Mapping[str, Any] | None) -> tuple[str, ...]:
    return tuple(sorted((info or {}).get("Runtimes") or {}))


def find_board(model: str | None) -> Board | None:
    return next((board for board in BOARDS if re.search(board.model_pattern, model or "")),
                None)


