//! The `---@meta` file and the registered API never drift apart.

use trackit::lua::Host;

#[test]
fn meta_file_matches_registered_functions() {
    let meta_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lua/types/trackit.lua");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    assert!(meta.starts_with("---@meta trackit"));
    let re = regex::Regex::new(r"(?m)^function (trackit(?:\.\w+)+)\(").unwrap();
    let mut declared: Vec<String> = re.captures_iter(&meta).map(|c| c[1].to_string()).collect();
    declared.sort();
    let registered = Host::builtin().api_functions();
    let missing: Vec<_> = registered
        .iter()
        .filter(|f| !declared.contains(f))
        .collect();
    let stale: Vec<_> = declared
        .iter()
        .filter(|f| !registered.contains(f))
        .collect();
    assert!(
        missing.is_empty(),
        "registered but not in lua/types/trackit.lua: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "in lua/types/trackit.lua but not registered: {stale:?}"
    );
    assert!(registered.len() >= 20, "{registered:?}");
}

#[test]
fn meta_file_declares_every_policy_key() {
    let meta = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lua/types/trackit.lua"),
    )
    .unwrap();
    let policy_class = &meta[meta.find("---@class trackit.Policy").unwrap()..];
    let policy_class = &policy_class[..policy_class.find("\n\n").unwrap()];
    for key in trackit::lua::POLICY_KEYS {
        assert!(
            policy_class.contains(&format!("---@field {key}")),
            "trackit.Policy lacks {key}"
        );
    }
}
