//! Text edits on a batch script and an sbatch command line.

use super::options::{self, directive_tokens, first_command_line, parse_options, script_options};

/// Lines of `text`, and whether it ended with a newline (kept on rewrite).
fn split(text: &str) -> (Vec<String>, bool) {
    (
        text.lines().map(str::to_string).collect(),
        text.ends_with('\n') || text.is_empty(),
    )
}

fn join(lines: &[String], trailing_newline: bool) -> String {
    let mut out = lines.join("\n");
    if trailing_newline && !lines.is_empty() {
        out.push('\n');
    }
    out
}

/// Sets `--long` where it takes effect. Returns where, and the value it had.
pub fn set_option(
    script: &mut String,
    args: &mut [String],
    long: &str,
    value: &str,
) -> (String, Option<String>) {
    let (cli, script_at) = parse_options(args);
    let hits: Vec<_> = cli.iter().filter(|f| f.name == long).collect();
    if !hits.is_empty() {
        let before = hits.last().and_then(|f| f.value.clone());
        let script_at = script_at.unwrap_or(args.len());
        for f in hits {
            if f.token < script_at {
                options::set_in_tokens(args, f, value);
            }
        }
        return ("command line".to_string(), before);
    }
    let (mut lines, nl) = split(script);
    let opts: Vec<_> = script_options(script)
        .into_iter()
        .filter(|o| o.found.name == long)
        .collect();
    if let Some(last) = opts.last() {
        let before = last.found.value.clone();
        // Rewrite from the last occurrence back, so earlier spans stay valid.
        for o in opts.iter().rev() {
            let line = &lines[o.line];
            let (tok_start, tok_end) = o.spans[o.found.token];
            let new = match o.found.value_at {
                Some(options::ValueAt::Joined(off)) => {
                    format!("{}{value}{}", &line[..tok_start + off], &line[tok_end..])
                }
                Some(options::ValueAt::Next) => {
                    let (s, e) = o.spans[o.found.token + 1];
                    format!("{}{value}{}", &line[..s], &line[e..])
                }
                None => format!("{}={value}{}", &line[..tok_end], &line[tok_end..]),
            };
            lines[o.line] = new;
        }
        let at = last.line;
        *script = join(&lines, nl);
        return (format!("#SBATCH line {}", at + 1), before);
    }
    // Not set anywhere: a new directive after the last one (or after the shebang).
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let block_end = first_command_line(&refs);
    let at = (0..block_end)
        .rev()
        .find(|&i| directive_tokens(&lines[i]).is_some())
        .map(|i| i + 1)
        .unwrap_or_else(|| usize::from(lines.first().is_some_and(|l| l.starts_with("#!"))));
    lines.insert(at, format!("#SBATCH --{long}={value}"));
    *script = join(&lines, nl);
    (format!("#SBATCH line {} (added)", at + 1), None)
}

/// Removes `--long` from the command line and the script. Returns the value it had.
pub fn remove_option(script: &mut String, args: &mut Vec<String>, long: &str) -> Option<String> {
    let before = super::effective_option(
        &super::JobSpec::Slurm {
            script_rel: Default::default(),
            script_text: script.clone(),
            sbatch_args: args.clone(),
        },
        long,
    );
    let (cli, script_at) = parse_options(args);
    let script_at = script_at.unwrap_or(args.len());
    for f in cli
        .iter()
        .rev()
        .filter(|f| f.name == long && f.token < script_at)
    {
        args.drain(f.token..=f.last_token());
    }
    let (mut lines, nl) = split(script);
    let opts: Vec<_> = script_options(script)
        .into_iter()
        .filter(|o| o.found.name == long)
        .collect();
    let mut emptied = Vec::new();
    for o in opts.iter().rev() {
        let line = &lines[o.line];
        let start = o.spans[o.found.token].0;
        let end = o.spans[o.found.last_token().min(o.spans.len() - 1)].1;
        let rest = line[end..].trim_start();
        let new = format!("{}{}", &line[..start], rest).trim_end().to_string();
        if directive_tokens(&new).is_some_and(|t| t.is_empty()) {
            emptied.push(o.line);
        }
        lines[o.line] = new;
    }
    emptied.sort_unstable();
    emptied.dedup();
    for i in emptied.into_iter().rev() {
        lines.remove(i);
    }
    *script = join(&lines, nl);
    before
}

/// Inserts a setup line before the script's first command (after the shebang and the `#SBATCH`
/// block). Returns its 0-based line index.
pub fn insert_setup(script: &mut String, line: &str) -> usize {
    let (mut lines, nl) = split(script);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let at = first_command_line(&refs);
    lines.insert(at, line.to_string());
    *script = join(&lines, nl);
    at
}

/// Changes an existing top-level `export NAME=...` line. Returns its index and old value, or None
/// when the script exports no such variable.
pub fn set_export(script: &mut String, name: &str, value: &str) -> Option<(usize, Option<String>)> {
    let (mut lines, nl) = split(script);
    let prefix = format!("export {name}=");
    let i = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&prefix))?;
    let old = lines[i].trim_start()[prefix.len()..].trim();
    let old = old.trim_matches(|c| c == '"' || c == '\'').to_string();
    let indent: String = lines[i].chars().take_while(|c| c.is_whitespace()).collect();
    lines[i] = format!("{indent}{prefix}{}", shell_quote(value));
    *script = join(&lines, nl);
    Some((i, Some(old)))
}

pub fn check_env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("set_env: {name:?} is not a variable name"))
    }
}

pub fn check_setup_line(line: &str) -> Result<(), String> {
    if line.trim().is_empty() {
        return Err("setup: the line is empty".into());
    }
    if line.contains('\n') || line.contains('\r') {
        return Err(format!("setup: one line per edit, got {line:?}"));
    }
    // A setup line is a command, never a scheduler directive (those go through set_option,
    // where caps apply).
    let head = line.trim_start().to_ascii_uppercase();
    if head.starts_with("#SBATCH") || head.starts_with("#PBS") || head.starts_with("#BSUB") {
        return Err(format!(
            "setup: {line:?} is a scheduler directive; use set_option, where caps apply"
        ));
    }
    Ok(())
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/=+@%^".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

const WRAP_TAG: &str = "trackit-setup";

/// Runs setup lines before a local command: `bash -c 'LINES; exec "$@"' trackit-setup CMD...`.
/// Returns false when the line is already there.
pub fn wrap_setup(command: &mut Vec<String>, line: &str) -> bool {
    let wrapped =
        command.len() >= 4 && command[0] == "bash" && command[1] == "-c" && command[3] == WRAP_TAG;
    if wrapped {
        if command[2].lines().any(|l| l.trim() == line) {
            return false;
        }
        let body = command[2].trim_end_matches("exec \"$@\"").to_string();
        command[2] = format!("{body}{line}\nexec \"$@\"");
        return true;
    }
    let mut out = vec![
        "bash".to_string(),
        "-c".to_string(),
        format!("set -e\n{line}\nexec \"$@\""),
        WRAP_TAG.to_string(),
    ];
    out.append(command);
    *command = out;
    true
}

/// Container flags that take a value (the next word).
const VALUE_FLAGS: &[&str] = &[
    "-B",
    "--bind",
    "--mount",
    "--env",
    "--env-file",
    "--home",
    "-H",
    "--overlay",
    "-o",
    "--pwd",
    "-W",
    "--workdir",
    "--security",
    "--network",
    "--network-args",
    "-S",
    "--scratch",
    "--app",
    "--hostname",
    "--dns",
    "--fusemount",
    "--apply-cgroups",
    "--drop-caps",
    "--add-caps",
];

/// Finds `singularity|apptainer exec|run|shell [flags] IMAGE` in the script's command lines and
/// changes the image and flags. Returns the line index, and the line before and after.
pub fn set_container(
    script: &mut String,
    image: Option<&str>,
    add_flags: &[String],
    remove_flags: &[String],
) -> Option<(usize, String, String)> {
    let (mut lines, nl) = split(script);
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.windows(2).position(|w| {
            let tool = w[0].rsplit('/').next().unwrap_or(w[0]);
            matches!(tool, "singularity" | "apptainer")
                && matches!(w[1], "exec" | "run" | "shell" | "test")
        }) else {
            continue;
        };
        let sub = at + 1;
        let mut j = sub + 1;
        let mut flags: Vec<String> = Vec::new();
        while j < words.len() && words[j].starts_with('-') {
            flags.push(words[j].to_string());
            if VALUE_FLAGS.contains(&words[j]) && j + 1 < words.len() {
                flags.push(words[j + 1].to_string());
                j += 1;
            }
            j += 1;
        }
        if j >= words.len() {
            continue;
        }
        let img = image.unwrap_or(words[j]).to_string();
        let mut kept: Vec<String> = Vec::new();
        let mut k = 0;
        while k < flags.len() {
            let f = &flags[k];
            let takes = VALUE_FLAGS.contains(&f.as_str()) && k + 1 < flags.len();
            let name = f.split('=').next().unwrap_or(f);
            if remove_flags.iter().any(|r| r == f || r == name) {
                k += if takes { 2 } else { 1 };
                continue;
            }
            kept.push(f.clone());
            if takes {
                kept.push(flags[k + 1].clone());
            }
            k += if takes { 2 } else { 1 };
        }
        for f in add_flags {
            if !kept.contains(f) {
                kept.extend(f.split_whitespace().map(str::to_string));
            }
        }
        let mut out: Vec<String> = words[..=sub].iter().map(|w| w.to_string()).collect();
        out.extend(kept);
        out.push(img);
        out.extend(words[j + 1..].iter().map(|w| w.to_string()));
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        let before = line.trim().to_string();
        let after = out.join(" ");
        lines[i] = format!("{indent}{after}");
        *script = join(&lines, nl);
        return Some((i, before, after));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_image_and_flags() {
        let mut s = "#!/bin/bash\nsingularity exec --nv -B /data:/data old.sif python train.py\n"
            .to_string();
        let (i, before, after) = set_container(
            &mut s,
            Some("new.sif"),
            &["--cleanenv".into()],
            &["--nv".into()],
        )
        .unwrap();
        assert_eq!(i, 1);
        assert!(before.contains("old.sif"));
        assert_eq!(
            after,
            "singularity exec -B /data:/data --cleanenv new.sif python train.py"
        );
        assert!(s.ends_with("new.sif python train.py\n"));
    }

    #[test]
    fn local_setup_wraps_once() {
        let mut c = vec!["python".to_string(), "a.py".to_string()];
        assert!(wrap_setup(&mut c, "module load x"));
        assert!(wrap_setup(&mut c, "module load y"));
        assert!(!wrap_setup(&mut c, "module load x"));
        assert_eq!(c[2], "set -e\nmodule load x\nmodule load y\nexec \"$@\"");
        assert_eq!(&c[3..], &["trackit-setup", "python", "a.py"]);
    }

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("expandable_segments:True"),
            "expandable_segments:True"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
    }
}
