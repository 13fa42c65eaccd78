//! The prefixes launchers and loggers put before a program's own words: `srun --label`'s task
//! number, torchrun's `[rank3]:`, Open MPI's `[1,0]<stderr>:`, Ray's and vLLM's `(Worker
//! pid=N)`, docker compose's `service-1  | `, timestamps and loggers' headers. Rules are written for the words (`^Killed$`, `^KeyError: ...`); a line is
//! matched with its prefixes and without them, so the same failure reads the same however the
//! job was launched.

use regex::Regex;
use std::sync::OnceLock;

/// One prefix a launcher or logger writes. Each ends at a space or a colon, so no program word
/// is cut in two.
const PREFIX: &str = r"(?x)
^\s*(?:
    \d{1,5}:\s                                              # srun --label: the task number
  | \[(?:rank|default)\d+\]:\s?                             # torchrun (--tee, --log-dir)
  | \[\d+,\d+\]<std(?:out|err)>:\s?                         # Open MPI --tag-output
  | \([\w.-]*\s*pid=\d+(?:,\s*ip=[\d.]+)?\)\s+              # Ray and vLLM workers
  | \[\s*\d+\.\d+\]\s                                       # the kernel's seconds since boot
  | [IWEF]\d{4}\s\d\d:\d\d:\d\d\.\d+\s+\d+\s[\w.-]+:\d+\]\s # glog (XLA, TensorFlow, NCCL plugins)
  | [\w.-]+[-_]\d+\s+\|\s                                   # docker compose: the service's container
  | (?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\d\d-\d\d\s\d\d:\d\d:\d\d(?:\.\d+)?\s+[\w./-]+:\d+\]\s
                                                            # vLLM's logger
  | (?:TRACE|DEBUG|INFO|SUCCESS|WARNING|ERROR|CRITICAL)\s*\|\s*\d{4}-\d\d-\d\d\s\d\d:\d\d:\d\d(?:[.,]\d+)?\s*\|\s*\S+\s+-\s
                                                            # loguru's default format
  | \[?\d{4}-\d\d-\d\d[T\s]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|\s?[+-]\d\d:?\d\d)?\]?
        (?:\s*[-|]\s+|:\s+|\s+)                             # a timestamp, with its separator
)";

/// `line` without the launcher and logger prefixes before its first word; `line` itself when it
/// has none. Stacked prefixes (a timestamp, then a rank) are all removed.
pub fn strip(line: &str) -> &str {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(PREFIX).expect("a valid prefix pattern"));
    let mut rest = line;
    // A few layers at most; a line that is only prefixes is left as the last one.
    for _ in 0..4 {
        match re.find(rest) {
            Some(m) if m.end() > 0 && m.end() < rest.len() => rest = &rest[m.end()..],
            _ => break,
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn launcher_and_logger_prefixes_are_removed() {
        for (line, body) in [
            ("0: Killed", "Killed"),
            ("  12: KeyError: 'lr'", "KeyError: 'lr'"),
            (
                "[rank3]: torch.cuda.OutOfMemoryError: CUDA out of memory.",
                "torch.cuda.OutOfMemoryError: CUDA out of memory.",
            ),
            (
                "[default0]:Traceback (most recent call last):",
                "Traceback (most recent call last):",
            ),
            (
                "[1,0]<stderr>:ImportError: libmpi.so.40",
                "ImportError: libmpi.so.40",
            ),
            (
                "(EngineCore_DP0 pid=4242) ValueError: Free memory",
                "ValueError: Free memory",
            ),
            ("(pid=77, ip=10.0.0.3) MemoryError", "MemoryError"),
            (
                "[12345.678901] Out of memory: Killed process 9",
                "Out of memory: Killed process 9",
            ),
            (
                "E0101 12:00:00.123456  4242 cuda_driver.cc:1023] failed",
                "failed",
            ),
            (
                "2025-03-01 12:00:01,123 ERROR: disk full",
                "ERROR: disk full",
            ),
            ("2025-03-01T12:00:01.5Z Killed", "Killed"),
            (
                "[2025-03-01 12:00:01] - ModuleNotFoundError: No module named 'x'",
                "ModuleNotFoundError: No module named 'x'",
            ),
            (
                "2025-03-01 12:00:01 [rank0]: RuntimeError: NCCL error",
                "RuntimeError: NCCL error",
            ),
            ("vllm-1  | ValueError: bad", "ValueError: bad"),
            ("worker_2   | Killed", "Killed"),
            ("vllm-1  | ERROR 11-18 18:07:28 engine.py:366] ValueError: x", "ValueError: x"),
            ("ERROR    | 2024-08-21 22:56:04 | autotrain.trainers.common:wrapper:121 - HIP out of memory.", "HIP out of memory."),
        ] {
            assert_eq!(strip(line), body, "{line}");
        }
    }

    #[test]
    fn program_words_are_kept() {
        for line in [
            "Killed",
            "slurmstepd: error: Detected 1 oom-kill event(s)",
            "  File \"train.py\", line 3, in <module>",
            "Epoch 3: loss 0.25",
            "3.14: not a task number",
            "0: ",
            "[E ProcessGroupNCCL.cpp:1182] Some NCCL operations have failed",
            "2025-03-01",
            "| oom | 38 | . |",
            "4242|train.sh|FAILED|1:0",
            "epoch 1 | loss 0.25 | acc 0.9",
        ] {
            assert_eq!(strip(line), line, "{line}");
        }
    }
}
