//! Call costs and the cost summary.

use std::collections::BTreeMap;

use super::rules::{money, thousands, Cache};
use super::{
    usd, CacheCandidate, Call, CallReport, Costs, Input, ModelCost, Prices, Projection, ScopeCost,
    ScopeKind,
};

/// The cost of one call under `prices`; `None` when the model is unpriced
/// or the usage unknown.
pub(crate) fn cost(call: &Call, prices: Option<&Prices>) -> Option<f64> {
    let price = prices?.of(call.model.as_deref()?)?;
    let (prompt, completion) = call.tokens()?;
    let input = price.input_per_million.unwrap_or(0.0);
    let output = price.output_per_million.unwrap_or(0.0);
    // u64 → f64 is exact below 2^53 tokens.
    Some(usd(
        (prompt as f64) * input / 1e6 + (completion as f64) * output / 1e6
    ))
}

/// Every call with its cost and scope, in input order.
pub(crate) fn priced_calls(input: &Input) -> Vec<CallReport> {
    let prices = input.prices.as_ref();
    input
        .scopes
        .iter()
        .enumerate()
        .flat_map(|(index, scope)| {
            scope.calls.iter().map(move |call| CallReport {
                call: call.clone(),
                cost_usd: cost(call, prices),
                scope_kind: scope.kind,
                scope_name: scope.name.clone(),
                scope_index: index,
            })
        })
        .collect()
}

/// Adds an optional cost to an optional sum.
pub(crate) fn add(sum: Option<f64>, cost: Option<f64>) -> Option<f64> {
    match (sum, cost) {
        (None, None) => None,
        (a, b) => Some(usd(a.unwrap_or(0.0) + b.unwrap_or(0.0))),
    }
}

/// Calls, cost, prompt and completion tokens of one model in one scope class.
type Tally = (u64, f64, u64, u64);

pub(crate) fn summary(input: &Input, calls: &[CallReport]) -> Costs {
    let scale = input.options.monthly_scale;
    let mut by_model: BTreeMap<&str, ModelCost> = BTreeMap::new();
    let mut by_scope: BTreeMap<(ScopeKind, &str), ScopeCost> = BTreeMap::new();
    let mut projection: BTreeMap<(ScopeKind, &str, &str), Tally> = BTreeMap::new();
    let mut total = None;
    for scope in &input.scopes {
        let entry = by_scope
            .entry((scope.kind, scope.name.as_str()))
            .or_insert_with(|| ScopeCost {
                kind: scope.kind,
                name: scope.name.clone(),
                runs: 0,
                calls: 0,
                cost_usd: None,
            });
        entry.runs += 1;
    }
    for c in calls {
        total = add(total, c.cost_usd);
        if let Some(entry) = by_scope.get_mut(&(c.scope_kind, c.scope_name.as_str())) {
            entry.calls += 1;
            entry.cost_usd = add(entry.cost_usd, c.cost_usd);
        }
        let Some(model) = c.call.model.as_deref() else {
            continue;
        };
        let (prompt, completion) = c.call.tokens().unwrap_or((0, 0));
        let entry = by_model.entry(model).or_insert_with(|| ModelCost {
            model: model.to_owned(),
            calls: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: None,
        });
        entry.calls += 1;
        entry.prompt_tokens = entry.prompt_tokens.saturating_add(prompt);
        entry.completion_tokens = entry.completion_tokens.saturating_add(completion);
        entry.cost_usd = add(entry.cost_usd, c.cost_usd);
        if let Some(cost) = c.cost_usd {
            let p = projection
                .entry((c.scope_kind, c.scope_name.as_str(), model))
                .or_insert((0, 0.0, 0, 0));
            p.0 += 1;
            p.1 = usd(p.1 + cost);
            p.2 = p.2.saturating_add(prompt);
            p.3 = p.3.saturating_add(completion);
        }
    }

    let mut by_model: Vec<ModelCost> = by_model.into_values().collect();
    by_model.sort_by(|a, b| {
        b.cost_usd
            .unwrap_or(-1.0)
            .total_cmp(&a.cost_usd.unwrap_or(-1.0))
            .then_with(|| a.model.cmp(&b.model))
    });
    let runs_of = |kind: ScopeKind, name: &str| {
        by_scope
            .get(&(kind, name))
            .map_or(1, |s: &ScopeCost| s.runs.max(1))
    };
    let mut monthly: Vec<Projection> = projection
        .into_iter()
        .map(|((kind, name, model), (n, cost, prompt, completion))| {
            let runs = runs_of(kind, name);
            let per_run = cost / runs as f64;
            let month = usd(cost * scale);
            let reasoning = format!(
                "{n} {model} call{s} in {runs} observed run{rs} of {kind} {name} cost {total} \
                 ({prompt} prompt + {completion} completion tokens; {per_run} per run); \
                 × {scale} (monthly_scale: observed windows per month) = {month}/month",
                s = plural(n),
                rs = plural(runs),
                kind = kind.as_str(),
                total = money(cost),
                prompt = thousands(prompt),
                completion = thousands(completion),
                per_run = money(usd(per_run)),
                scale = number(scale),
                month = money(month),
            );
            Projection {
                model: model.to_owned(),
                scope: name.to_owned(),
                scope_kind: kind,
                runs,
                calls: n,
                cost_usd_per_month: month,
                reasoning,
            }
        })
        .collect();
    monthly.sort_by(|a, b| {
        b.cost_usd_per_month
            .total_cmp(&a.cost_usd_per_month)
            .then_with(|| {
                (a.scope_kind, &a.scope, &a.model).cmp(&(b.scope_kind, &b.scope, &b.model))
            })
    });
    let mut by_scope: Vec<ScopeCost> = by_scope.into_values().collect();
    by_scope.sort_by(|a, b| {
        b.cost_usd
            .unwrap_or(-1.0)
            .total_cmp(&a.cost_usd.unwrap_or(-1.0))
            .then_with(|| (a.kind, &a.name).cmp(&(b.kind, &b.name)))
    });
    let cache_candidates = Cache::groups(calls)
        .into_iter()
        .map(|g| CacheCandidate {
            prompt_fingerprint: g.fingerprint.to_owned(),
            model: g.model.map(str::to_owned),
            calls: g.calls,
            repeats: g.calls - 1,
            hit_rate: g.hit_rate(),
            cost_saved_usd: g.cost_saved(),
            time_saved_ms: g.total_ms * g.hit_rate(),
        })
        .collect();
    let prices = input.prices.as_ref();
    Costs {
        by_model,
        by_scope,
        cache_candidates,
        monthly_projection: monthly,
        prices_as_of: prices.and_then(|p| p.as_of.clone()),
        currency: prices
            .and_then(|p| p.currency.clone())
            .unwrap_or_else(|| "USD".to_owned()),
        total_cost_usd: total,
        total_cost_usd_per_month: total.map(|t| usd(t * scale)),
    }
}

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A plain number: integers without decimals, else up to 4 decimals.
pub(crate) fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}
