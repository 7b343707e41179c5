"""Runs over collections of inputs, on one process or many (torchrun): which share of the inputs this process takes
(:mod:`.context`), the collectives a distributed run needs (:mod:`.collective`), and the record of what each process
did (:mod:`.ledger`: failures file, per-process summary); how one input's outputs are staged, published whole or
discarded, and which inputs a resumed run skips (:mod:`.outputs`)."""

from .collective import gather_to_root, process_group
from .context import RunContext
from .ledger import FailureLog, RunSummary, summary_lines
from .outputs import Outputs, pending, staging_name

__all__ = ["RunContext", "process_group", "gather_to_root", "FailureLog", "RunSummary", "summary_lines",
           "Outputs", "pending", "staging_name"]
