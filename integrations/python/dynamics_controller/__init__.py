"""The DynaMiCS mixture controller for trainers of your own (PyTorch, several GPUs, the Hugging Face
Trainer): register a run with `dynamics serve`, answer its tasks, train on the mixtures it decides.
Standard library only; `hf` needs transformers and torch."""

from .client import PROTOCOL, Client, ControllerError, Run, evaluation_result, serve_tasks, train_result
from .sampler import MixtureSampler
from .tasks import TaskHandler

__all__ = ["PROTOCOL", "Client", "ControllerError", "Run", "MixtureSampler", "TaskHandler", "evaluation_result", "serve_tasks", "train_result"]
