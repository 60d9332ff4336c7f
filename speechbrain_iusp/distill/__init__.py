"""Knowledge distillation for SpeechBrain taggers.

* :mod:`.brain`: :class:`DistillationBrain`, the Brain that trains a model
  on the task loss plus weighted distillation terms from a frozen teacher;
* :mod:`.batch`: the batch contract (:func:`read_batch`) and the tasks
  (:class:`Task`: multi-label tagging or single-label classification);
* :mod:`.terms`: :class:`DistillTerm`, one weighted loss between a student
  and a teacher tap;
* :mod:`.taps`: :func:`run_with_taps` and :class:`ForwardHookTap`, named
  activations of a model;
* :mod:`.teacher`: :class:`FrozenTeacher` (the teacher run frozen, on its
  device and in its precision, ensembles fanned out), :func:`load_teacher`,
  :func:`teacher_fingerprint` and :class:`TeacherCache`, the teacher's
  outputs computed once per clip;
* :mod:`.checkpoints`: :func:`discard_incomplete_checkpoints` and
  :class:`RandomState` (exact resumes);
* :mod:`.mixup`: :func:`mixup` for multi-label batches.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.distill.batch import Task, read_batch
from speechbrain_iusp.distill.brain import DistillationBrain
from speechbrain_iusp.distill.checkpoints import (
    RandomState,
    discard_incomplete_checkpoints,
)
from speechbrain_iusp.distill.mixup import mixup
from speechbrain_iusp.distill.taps import LOGITS, ForwardHookTap, run_with_taps
from speechbrain_iusp.distill.teacher import (
    FrozenTeacher,
    TeacherCache,
    load_teacher,
    teacher_fingerprint,
)
from speechbrain_iusp.distill.terms import DistillTerm

__all__ = [
    "LOGITS",
    "DistillTerm",
    "RandomState",
    "Task",
    "DistillationBrain",
    "ForwardHookTap",
    "FrozenTeacher",
    "TeacherCache",
    "discard_incomplete_checkpoints",
    "load_teacher",
    "mixup",
    "read_batch",
    "run_with_taps",
    "teacher_fingerprint",
]
