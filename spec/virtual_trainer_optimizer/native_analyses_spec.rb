# frozen_string_literal: true

require "json"

# The JSON-in, JSON-out native analyses (schema DDL, index advice, plans, CI
# summary) at the Ruby boundary: results, errors, and (rake spec:gc_stress)
# the same under GC.stress.
RSpec.describe "Native analyses", :native do
  native = VirtualTrainerOptimizer::Native
  fixtures = File.expand_path("../../crates/vto-core/tests/fixtures", __dir__)

  it "parses a pg_dump into the schema model and advises on it" do
    parsed = JSON.parse(native.schema_from_ddl(File.read(File.join(fixtures, "pg_dump_schema_only.sql")), "postgresql"))
    expect(parsed["warnings"]).to eq([])
    expect(parsed["schema"]["tables"].size).to be > 5
    advice = JSON.parse(native.index_advise(JSON.generate(parsed["schema"]), "{}"))
    expect(advice).not_to be_empty
    expect(advice).to all(include("kind", "table", "columns", "migration", "sql", "reason", "priority"))
  end

  it "reads EXPLAIN JSON and compares two plans" do
    seq = File.read(File.join(fixtures, "plans/user_lookup_without_index.json"))
    index = File.read(File.join(fixtures, "plans/index_scan.json"))
    report = JSON.parse(native.plan_analyze(seq, "{}"))
    expect(report).to include("total_cost", "seq_scans", "findings", "indexes_used")
    comparison = JSON.parse(native.plan_compare(seq, index))
    expect(comparison).to include("cost_before", "cost_after", "improvement", "uses")
  end

  it "renders the CI summary" do
    input = JSON.generate(findings: [{ kind: "n_plus_one", fingerprint: "65480462680d0787", count: 3, sql: "SELECT ?",
                                       location: "app/x.rb:3", priority: "high", total_ms: 1.5, scope: "GET /" }])
    expect(native.ci_summary(input, "text")).to start_with("virtual_trainer_optimizer: 1 finding at 1 place")
    expect(JSON.parse(native.ci_summary(input, "sarif"))["version"]).to eq("2.1.0")
  end

  it "raises ArgumentError for malformed input and unknown formats, and survives hostile input" do
    expect { native.index_advise("{", "{}") }.to raise_error(ArgumentError)
    expect { native.index_advise("{}", "[") }.to raise_error(ArgumentError)
    expect { native.plan_analyze("not json", "{}") }.to raise_error(ArgumentError)
    expect { native.plan_analyze("[]", "{}") }.to raise_error(ArgumentError)
    expect { native.ci_summary("{}", "xml") }.to raise_error(ArgumentError, /unknown report format/)
    expect { native.schema_from_ddl("SELECT 1", "oracle") }.to raise_error(ArgumentError)
    expect { native.index_advise(1, "{}") }.to raise_error(TypeError)
    deep = "#{'{"Plan": {"Node Type": "Limit", "Plans": [' * 300}{\"Node Type\": \"Result\"}#{']}}' * 300}"
    expect { native.plan_analyze(deep, "{}") }.to raise_error(ArgumentError)
    garbage = JSON.parse(native.schema_from_ddl("CREATE TABLE (((( #{"\xff" * 100}".b.force_encoding("UTF-8"), "postgresql"))
    expect(garbage["warnings"]).not_to be_empty
  end
end
