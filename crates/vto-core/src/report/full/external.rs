//! The report's `external` input (outbound API calls, analysed by
//! [`crate::external`]) and the assessment's `external` part: per endpoint
//! where the time and money of those calls go.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{ratio, round2, round4};
use crate::external::{self, ModelCost, ScopeCost};

/// The usage multipliers the monthly projection is shown at when the input
/// gives none: today's traffic, twice, five and ten times it.
pub const DEFAULT_GROWTH: [f64; 4] = [1.0, 2.0, 5.0, 10.0];

/// The input's `external` object: [`external::Input`] (`scopes`, `prices`,
/// `options`) plus the providers' `rate_limits` and the `growth`
/// multipliers. Like `infrastructure`, it never fails the whole report: what
/// cannot be read is reported as such (see [`ExternalInput::error`]).
#[derive(Debug, Clone, Default)]
pub struct ExternalInput {
    /// The calls to analyse; `None` when the object could not be read.
    pub calls: Option<external::Input>,
    /// Why the calls could not be read.
    pub error: Option<String>,
    /// Stated limits by host (lower case).
    pub rate_limits: BTreeMap<String, RateLimit>,
    /// Usage multipliers for the projection ([`DEFAULT_GROWTH`] when none).
    pub growth: Vec<f64>,
}

/// A provider's stated limits, per minute; either may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RateLimit {
    /// Requests per minute.
    pub requests_per_minute: Option<f64>,
    /// Tokens per minute.
    pub tokens_per_minute: Option<f64>,
}

impl<'de> Deserialize<'de> for ExternalInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ExternalInput::from_value(Value::deserialize(d)?))
    }
}

impl ExternalInput {
    /// Reads the section leniently: the calls strictly (as
    /// [`external::Input::from_json`] does, a bad call is an unreadable
    /// section), the limits and multipliers figure by figure.
    pub fn from_value(value: Value) -> ExternalInput {
        let Value::Object(map) = &value else {
            return ExternalInput {
                error: Some(format!(
                    "expected an object ({{\"scopes\": [...], \"prices\": {{...}}}}), not {}",
                    super::render::type_name(&value)
                )),
                growth: DEFAULT_GROWTH.to_vec(),
                ..ExternalInput::default()
            };
        };
        let rate_limits = map
            .get("rate_limits")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(host, limit)| {
                let figure = |key: &str| {
                    limit
                        .get(key)
                        .and_then(number)
                        .filter(|x| *x > 0.0 && x.is_finite())
                };
                let limit = RateLimit {
                    requests_per_minute: figure("requests_per_minute"),
                    tokens_per_minute: figure("tokens_per_minute"),
                };
                let known =
                    limit.requests_per_minute.is_some() || limit.tokens_per_minute.is_some();
                known.then(|| (host.trim().to_ascii_lowercase(), limit))
            })
            .collect();
        let growth: Vec<f64> = map
            .get("growth")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(number)
            .filter(|x| *x > 0.0 && x.is_finite())
            .collect();
        let growth = if growth.is_empty() {
            DEFAULT_GROWTH.to_vec()
        } else {
            growth
        };
        let (calls, error) = match serde_json::from_value::<external::Input>(value.clone()) {
            Ok(calls) => (Some(calls), None),
            Err(e) => (None, Some(e.to_string())),
        };
        ExternalInput {
            calls,
            error,
            rate_limits,
            growth,
        }
    }

    /// The stated limit of `host`, when any.
    pub fn rate_limit(&self, host: &str) -> Option<RateLimit> {
        self.rate_limits
            .get(&host.trim().to_ascii_lowercase())
            .copied()
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The external input with its analysis, as every part of the report uses it.
pub(super) struct Analysis<'a> {
    pub input: &'a ExternalInput,
    pub calls: &'a external::Input,
    pub report: external::Report,
}

impl<'a> Analysis<'a> {
    /// Runs [`external::analyze`] once; `None` without readable calls.
    pub fn of(input: &'a ExternalInput) -> Option<Analysis<'a>> {
        let calls = input.calls.as_ref()?;
        let report = external::analyze(calls);
        (!report.calls.is_empty()).then_some(Analysis {
            input,
            calls,
            report,
        })
    }

    /// `monthly_scale` of the input's options.
    pub fn scale(&self) -> f64 {
        self.calls.options.monthly_scale
    }
}

/// The assessment's `external` part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalAssessment {
    /// Outbound calls recorded.
    pub calls: u64,
    /// Their time, in milliseconds.
    pub total_ms: f64,
    /// Their cost (`null` when no call's cost is known).
    pub cost_usd: Option<f64>,
    /// The prices' currency (`USD` when not given).
    pub currency: String,
    /// The prices' date.
    pub prices_as_of: Option<String>,
    /// Per host, method and path, most time first.
    pub hosts: Vec<ExternalEndpoint>,
    /// Per model, costliest first ([`external::Costs::by_model`]).
    pub by_model: Vec<ModelCost>,
    /// Per scope class, costliest first ([`external::Costs::by_scope`]).
    pub by_scope: Vec<ScopeCost>,
    /// Why the section is empty when the input could not be read; else `null`.
    pub note: Option<String>,
}

/// One endpoint's calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalEndpoint {
    /// Lower case.
    pub host: String,
    /// Upper case.
    pub method: String,
    /// As recorded.
    pub path: String,
    /// Calls.
    pub calls: u64,
    /// Their time.
    pub total_ms: f64,
    /// `total_ms / calls`.
    pub mean_ms: f64,
    /// The slowest.
    pub max_ms: f64,
    /// Share answered 429 / 5xx or not at all.
    pub error_rate: f64,
    /// Known prompt tokens (`null` when no call reported usage).
    pub prompt_tokens: Option<u64>,
    /// Known completion tokens.
    pub completion_tokens: Option<u64>,
    /// Known cost (`null` when none is known).
    pub cost_usd: Option<f64>,
    /// Names of the scope classes that call it.
    pub scopes: Vec<String>,
}

/// `null` without an `external` input or without calls; a note when the
/// input could not be read.
pub(super) fn assess(
    input: Option<&ExternalInput>,
    analysis: Option<&Analysis<'_>>,
) -> Option<ExternalAssessment> {
    if let Some(a) = analysis {
        return Some(summary(a));
    }
    let error = input?.error.as_ref()?;
    Some(ExternalAssessment {
        calls: 0,
        total_ms: 0.0,
        cost_usd: None,
        currency: "USD".to_owned(),
        prices_as_of: None,
        hosts: Vec::new(),
        by_model: Vec::new(),
        by_scope: Vec::new(),
        note: Some(format!(
            "The external section could not be read, so outbound API calls were not assessed: \
             {error}."
        )),
    })
}

#[derive(Default)]
struct Tally<'a> {
    calls: u64,
    failed: u64,
    total_ms: f64,
    max_ms: f64,
    prompt: Option<u64>,
    completion: Option<u64>,
    cost: Option<f64>,
    scopes: BTreeSet<&'a str>,
}

fn summary(a: &Analysis<'_>) -> ExternalAssessment {
    let mut by: BTreeMap<external::Endpoint, Tally<'_>> = BTreeMap::new();
    for c in &a.report.calls {
        let t = by.entry(external::endpoint(c)).or_default();
        t.calls += 1;
        t.failed += u64::from(c.call.failed());
        t.total_ms += c.call.ms();
        t.max_ms = t.max_ms.max(c.call.ms());
        if let Some((p, q)) = c.call.tokens() {
            t.prompt = Some(t.prompt.unwrap_or(0).saturating_add(p));
            t.completion = Some(t.completion.unwrap_or(0).saturating_add(q));
        }
        if let Some(cost) = c.cost_usd {
            t.cost = Some(external::usd(t.cost.unwrap_or(0.0) + cost));
        }
        t.scopes.insert(c.scope_name.as_str());
    }
    let mut hosts: Vec<ExternalEndpoint> = by
        .into_iter()
        .map(|((host, method, path), t)| ExternalEndpoint {
            host,
            method,
            path,
            calls: t.calls,
            total_ms: round2(t.total_ms),
            mean_ms: round2(ratio(t.total_ms, t.calls as f64).unwrap_or(0.0)),
            max_ms: round2(t.max_ms),
            error_rate: round4(ratio(t.failed as f64, t.calls as f64).unwrap_or(0.0)),
            prompt_tokens: t.prompt,
            completion_tokens: t.completion,
            cost_usd: t.cost,
            scopes: t.scopes.into_iter().map(str::to_owned).collect(),
        })
        .collect();
    hosts.sort_by(|x, y| {
        y.total_ms
            .total_cmp(&x.total_ms)
            .then_with(|| (&x.host, &x.method, &x.path).cmp(&(&y.host, &y.method, &y.path)))
    });
    let costs = &a.report.costs;
    ExternalAssessment {
        calls: a.report.calls.len() as u64,
        total_ms: round2(a.report.calls.iter().map(|c| c.call.ms()).sum()),
        cost_usd: costs.total_cost_usd,
        currency: costs.currency.clone(),
        prices_as_of: costs.prices_as_of.clone(),
        hosts,
        by_model: costs.by_model.clone(),
        by_scope: costs.by_scope.clone(),
        note: None,
    }
}

/// The finding kinds the report derives from `external` itself: the same
/// kinds given in the input's `findings` are dropped, so nothing is
/// reported twice.
pub(super) fn is_external_kind(kind: &str) -> bool {
    kind.starts_with("external_") || kind == "duplicate_external_call"
}

/// `external:<kind>:<scope>:<METHOD> <host><path>`; `*` for a finding that
/// spans scopes.
pub(super) fn evidence(f: &external::Finding) -> String {
    format!(
        "external:{}:{}:{} {}{}",
        f.kind.as_str(),
        f.scope_name.as_deref().unwrap_or("*"),
        f.method,
        f.host,
        f.path
    )
}
