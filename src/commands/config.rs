//! `trackit config`: where the user config and the track index are, and what they hold.

use crate::config::{config_path, UserConfig};
use crate::track::index::Index;
use anyhow::Result;
use std::process::ExitCode;

pub fn show(json: bool) -> Result<ExitCode> {
    let path = config_path();
    let config = match &path {
        Some(p) => UserConfig::load_from(p)?,
        None => UserConfig::default(),
    };
    let index = Index::user();
    let tracks = match &index {
        Some(i) => i.entries()?.len(),
        None => 0,
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "config_file": path,
                "config_file_exists": path.as_ref().is_some_and(|p| p.is_file()),
                "config": config,
                "index": index.as_ref().map(|i| i.path()),
                "indexed_tracks": tracks,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let shown = |v: Option<&str>| v.unwrap_or("-").to_string();
    match &path {
        Some(p) if p.is_file() => println!("config file: {}", p.display()),
        Some(p) => println!("config file: {} (none yet: the defaults)", p.display()),
        None => println!("config file: none (no HOME)"),
    }
    println!("policy: {}", shown(config.policy.as_deref()));
    println!("cluster.host: {}", shown(config.host()));
    println!("cluster.remote_dir: {}", shown(config.remote_dir()));
    println!("github.host: {}", shown(config.github.host.as_deref()));
    println!(
        "github.api_url: {}",
        shown(config.github.api_url.as_deref())
    );
    println!("github.pr: {}", config.github.pr);
    match &index {
        Some(i) => println!("track index: {} ({tracks} tracks)", i.path().display()),
        None => println!("track index: none (no HOME)"),
    }
    Ok(ExitCode::SUCCESS)
}
