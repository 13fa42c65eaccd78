# Scalars written by the real tensorboardX (simple_value and, with new_style, tensor) and by
# tensorboard's own writer with tensor scalars (what tf.summary.scalar in TF 2 writes).
import math, os, shutil
from tensorboardX import SummaryWriter
shutil.rmtree("tbx", ignore_errors=True); shutil.rmtree("tbtensor", ignore_errors=True)
w = SummaryWriter("tbx")
for step in range(0, 50, 10):
    w.add_scalar("train/loss", 1.0 / (1 + step / 10), step)
    w.add_scalar("val/acc", 0.5 + step / 100, step)
    w.add_scalar("epoch", step // 20, step)
w.close()
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.plugins.scalar import summary_v2
from tensorboard.compat.proto import event_pb2
import time
ew = EventFileWriter("tbtensor")
for step in range(3):
    s = summary_v2.scalar_pb("eval/loss", 0.9 - 0.2 * step)
    ew.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=s))
    s = summary_v2.scalar_pb("eval/accuracy", math.pi / 4 + step * 0.01)
    ew.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=s))
ew.close()
# A float64 tensor scalar too (tf.summary.scalar keeps the dtype it is given).
import numpy as np
from tensorboard.util import tensor_util
from tensorboard.compat.proto import summary_pb2
ew = EventFileWriter("tbtensor", filename_suffix=".f64")
for step in range(2):
    t = tensor_util.make_tensor_proto(np.float64(0.25 * (step + 1)))
    v = summary_pb2.Summary.Value(tag="lr", tensor=t, metadata=summary_v2.scalar_pb("lr", 0.0).value[0].metadata)
    ew.add_event(event_pb2.Event(wall_time=time.time(), step=step * 100, summary=summary_pb2.Summary(value=[v])))
ew.close()
