//! A small unified diff of two scripts, to show what a fix changes.

/// Unified-style hunks (`@@ -a,b +c,d @@`, ` `, `-`, `+` lines) with `context` lines around each
/// change. Empty when the texts are equal.
pub fn unified(
    before: &str,
    after: &str,
    from_name: &str,
    to_name: &str,
    context: usize,
) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    if a == b {
        return String::new();
    }
    let ops = script_ops(&a, &b);
    // Group ops into hunks: changes plus `context` equal lines around them.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut out = format!("--- {from_name}\n+++ {to_name}\n");
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(context);
        let mut end = changed[i];
        while i + 1 < changed.len() && changed[i + 1] <= end + 2 * context + 1 {
            i += 1;
            end = changed[i];
        }
        let end = (end + context + 1).min(ops.len());
        let hunk = &ops[start..end];
        let (a0, b0) = position(&ops[..start]);
        let a_len = hunk.iter().filter(|o| !matches!(o, Op::Add(_))).count();
        let b_len = hunk.iter().filter(|o| !matches!(o, Op::Del(_))).count();
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n",
            a0 + usize::from(a_len > 0),
            b0 + usize::from(b_len > 0)
        ));
        for op in hunk {
            match op {
                Op::Same(j) => out.push_str(&format!(" {}\n", a[*j])),
                Op::Del(j) => out.push_str(&format!("-{}\n", a[*j])),
                Op::Add(j) => out.push_str(&format!("+{}\n", b[*j])),
            }
        }
        i += 1;
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Same(usize),
    Del(usize),
    Add(usize),
}

fn position(ops: &[Op]) -> (usize, usize) {
    let a = ops.iter().filter(|o| !matches!(o, Op::Add(_))).count();
    let b = ops.iter().filter(|o| !matches!(o, Op::Del(_))).count();
    (a, b)
}

/// Longest-common-subsequence edit script. Scripts are small; past 4000 lines a side the whole
/// middle is shown as replaced.
fn script_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<Op> = (0..pre).map(Op::Same).collect();
    if am.len() > 4000 || bm.len() > 4000 {
        ops.extend((0..am.len()).map(|i| Op::Del(pre + i)));
        ops.extend((0..bm.len()).map(|i| Op::Add(pre + i)));
    } else {
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if am[i] == bm[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Same(pre + i));
                i += 1;
                j += 1;
            } else if j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j]) {
                ops.push(Op::Add(pre + j));
                j += 1;
            } else {
                ops.push(Op::Del(pre + i));
                i += 1;
            }
        }
    }
    let sa = a.len() - suf;
    ops.extend((0..suf).map(|k| Op::Same(sa + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_with_context() {
        let before = "#!/bin/bash\n#SBATCH --mem=100M\n#SBATCH -t 10\npython a.py\n";
        let after = "#!/bin/bash\n#SBATCH --mem=200M\n#SBATCH -t 10\npython a.py\n";
        let d = unified(before, after, "a/job.sh", "b/job.sh", 1);
        assert_eq!(
            d,
            "--- a/job.sh\n+++ b/job.sh\n@@ -1,3 +1,3 @@\n #!/bin/bash\n-#SBATCH --mem=100M\n+#SBATCH --mem=200M\n #SBATCH -t 10\n"
        );
        assert_eq!(unified(before, before, "a", "b", 1), "");
    }

    #[test]
    fn insertion() {
        let d = unified("a\nb\n", "a\nx\nb\n", "a", "b", 0);
        assert!(d.ends_with("@@ -1,0 +2,1 @@\n+x\n"), "{d}");
    }
}
