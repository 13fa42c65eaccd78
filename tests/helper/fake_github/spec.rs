//! GitHub's OpenAPI description (tests/data/github/*.subset.json) as the fake's rule book: which
//! path template a request names, whether its parameters and body are valid, whether the fake's
//! own answer is documented; and the published examples the fake builds its answers on.

use super::Flavor;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) struct Spec {
    pub flavor: Flavor,
    /// As published: examples are the response templates.
    raw: Value,
    /// `nullable` rewritten to type unions, `{`/`}` in `$ref`s percent-encoded.
    converted: Value,
    validators: HashMap<String, Arc<jsonschema::Validator>>,
}

impl Spec {
    pub(super) fn load(flavor: Flavor) -> Spec {
        let file = match flavor {
            Flavor::Dotcom => "api.github.com.subset.json",
            Flavor::Ghes => "ghes-3.17.subset.json",
        };
        let path = format!("{}/tests/data/github/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let raw: Value = serde_json::from_str(&text).expect("OpenAPI JSON");
        let mut converted = raw.clone();
        openapi_to_json_schema(&mut converted);
        Spec {
            flavor,
            raw,
            converted,
            validators: HashMap::new(),
        }
    }

    pub(super) fn prefix(&self) -> &'static str {
        match self.flavor {
            Flavor::Dotcom => "",
            Flavor::Ghes => "/api/v3",
        }
    }

    /// Follows an OpenAPI-level `$ref` (parameters, responses, request bodies).
    fn deref<'a>(&'a self, node: &'a Value) -> &'a Value {
        let mut node = node;
        for _ in 0..8 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let pointer = reference
                        .trim_start_matches('#')
                        .replace("%7B", "{")
                        .replace("%7D", "}");
                    node = self.converted.pointer(&pointer).unwrap_or(&Value::Null);
                }
                None => break,
            }
        }
        node
    }

    pub(super) fn example(&self, name: &str) -> Value {
        self.raw["components"]["examples"][name]["value"].clone()
    }

    /// Finds the path template matching `path` (prefix removed), preferring literal segments.
    pub(super) fn route(&self, path: &str) -> Option<(String, HashMap<String, String>)> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, String, HashMap<String, String>)> = None;
        for template in self.converted["paths"].as_object()?.keys() {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            let mut params = HashMap::new();
            let mut literals = 0;
            // `contents/{path}` takes the rest of the path, slashes and all (x-multi-segment).
            let segments: Vec<&str> =
                if template.ends_with("/contents/{path}") && segments.len() > parts.len() {
                    let mut s = segments[..parts.len() - 1].to_vec();
                    let rest = segments[parts.len() - 1..].join("/");
                    s.push(Box::leak(rest.into_boxed_str()));
                    s
                } else {
                    segments.clone()
                };
            if parts.len() != segments.len() {
                continue;
            }
            let matched = parts.iter().zip(&segments).all(|(part, seg)| {
                if part.starts_with('{') && part.ends_with('}') {
                    let name = &part[1..part.len() - 1];
                    params.insert(name.to_string(), percent_decode(seg));
                    !seg.is_empty()
                } else {
                    literals += 1;
                    part == seg
                }
            });
            if matched && best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                best = Some((literals, template.clone(), params));
            }
        }
        best.map(|(_, template, params)| (template, params))
    }

    pub(super) fn operation(&self, template: &str, method: &str) -> Option<&Value> {
        self.converted["paths"][template].get(method.to_ascii_lowercase())
    }

    fn validator(
        &mut self,
        key: String,
        schema: &Value,
        formats: bool,
    ) -> Arc<jsonschema::Validator> {
        if let Some(v) = self.validators.get(&key) {
            return Arc::clone(v);
        }
        let root = json!({
            "components": self.converted["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(formats)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema {key} does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators.insert(key, Arc::clone(&validator));
        validator
    }

    fn check(
        &mut self,
        key: String,
        schema: &Value,
        formats: bool,
        instance: &Value,
    ) -> Vec<String> {
        let validator = self.validator(key.clone(), schema, formats);
        validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{key}: {e} at {}", e.instance_path()))
            .collect()
    }

    /// Parameters and body of a request against operation `template`/`method`.
    pub(super) fn check_request(
        &mut self,
        template: &str,
        method: &str,
        path_params: &HashMap<String, String>,
        query: &[(String, String)],
        body: &str,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(op) = self.operation(template, method).cloned() else {
            return vec![format!("{method} {template}: no such operation")];
        };
        let op_key = format!("{method} {template}");
        let mut known = Vec::new();
        let params: Vec<Value> = op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .chain(
                self.converted["paths"][template]["parameters"]
                    .as_array()
                    .unwrap_or(&Vec::new()),
            )
            .map(|p| self.deref(p).clone())
            .collect();
        for param in params {
            let name = param["name"].as_str().unwrap_or_default().to_string();
            let location = param["in"].as_str().unwrap_or_default();
            let required = param["required"].as_bool().unwrap_or(false);
            let schema = param["schema"].clone();
            let value = match location {
                "path" => path_params.get(&name).cloned(),
                "query" => {
                    known.push(name.clone());
                    let values: Vec<&String> = query
                        .iter()
                        .filter(|(k, _)| *k == name)
                        .map(|(_, v)| v)
                        .collect();
                    if values.len() > 1 {
                        errors.push(format!("{op_key}: query parameter {name} given twice"));
                    }
                    values.first().map(|v| (*v).clone())
                }
                _ => continue,
            };
            match value {
                None if required => {
                    errors.push(format!("{op_key}: missing {location} parameter {name}"))
                }
                None => {}
                Some(text) => {
                    let instance = coerce(&schema, &text);
                    // Query values such as `created=>=2026-01-01T00:00:00Z` use GitHub's search
                    // syntax, which the published `format: date-time` does not describe.
                    errors.extend(self.check(
                        format!("{op_key} param {name}"),
                        &schema,
                        false,
                        &instance,
                    ));
                }
            }
        }
        for (name, _) in query {
            if !known.contains(name) {
                errors.push(format!("{op_key}: unknown query parameter {name}"));
            }
        }
        let request_body = op.get("requestBody").map(|b| self.deref(b).clone());
        match request_body {
            None if !body.trim().is_empty() => errors.push(format!("{op_key}: takes no body")),
            None => {}
            Some(spec_body) => {
                let required = spec_body["required"].as_bool().unwrap_or(false);
                let schema = spec_body["content"]["application/json"]["schema"].clone();
                if body.trim().is_empty() {
                    if required {
                        errors.push(format!("{op_key}: body required"));
                    }
                } else {
                    match serde_json::from_str::<Value>(body) {
                        Ok(instance) => errors.extend(self.check(
                            format!("{op_key} body"),
                            &schema,
                            true,
                            &instance,
                        )),
                        Err(e) => errors.push(format!("{op_key}: body is not JSON: {e}")),
                    }
                }
            }
        }
        errors
    }

    /// The fake's own answer against the documented responses.
    pub(super) fn check_response(
        &mut self,
        template: &str,
        method: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<String> {
        let Some(op) = self.operation(template, method).cloned() else {
            return Vec::new();
        };
        let op_key = format!("{method} {template}");
        // GitHub refuses a dispatch with 422 (undeclared or missing inputs, unknown ref) or 404
        // (no such workflow on the default branch), which the description leaves out
        // (tests/data/github/README.md).
        let dispatches = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches";
        if op_key == dispatches && matches!(status, 404 | 422) {
            return Vec::new();
        }
        let Some(response) = op["responses"]
            .get(status.to_string())
            .map(|r| self.deref(r).clone())
        else {
            return vec![format!(
                "fake answered {op_key} with undocumented status {status}"
            )];
        };
        let schema = response["content"]["application/json"]["schema"].clone();
        match (schema.is_null(), body) {
            (true, None) => Vec::new(),
            (true, Some(_)) => vec![format!(
                "fake answered {op_key} {status} with a body; none documented"
            )],
            (false, None) => vec![format!(
                "fake answered {op_key} {status} without the documented body"
            )],
            (false, Some(body)) => {
                self.check(format!("{op_key} response {status}"), &schema, true, body)
            }
        }
    }
}

/// OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a type union (or `anyOf` with null),
/// and `{`/`}` in `$ref` pointers are percent-encoded.
fn openapi_to_json_schema(node: &mut Value) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        Value::Object(map) => {
            for value in map.values_mut() {
                openapi_to_json_schema(value);
            }
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                *reference = reference.replace('{', "%7B").replace('}', "%7D");
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::Array(options)) = map.get_mut("enum") {
                    if !options.contains(&Value::Null) {
                        options.push(Value::Null);
                    }
                }
                match map.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = t.clone();
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    Some(Value::Array(types)) => {
                        if !types.contains(&json!("null")) {
                            types.push(json!("null"));
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
        }
        _ => {}
    }
}

/// A query/path string as the JSON value its schema expects.
fn coerce(schema: &Value, text: &str) -> Value {
    let mentions = |t: &str| schema.to_string().contains(&format!("\"{t}\""));
    if mentions("integer") || mentions("number") {
        if let Ok(n) = text.parse::<i64>() {
            return json!(n);
        }
    }
    if mentions("boolean") && (text == "true" || text == "false") {
        return json!(text == "true");
    }
    json!(text)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
