# frozen_string_literal: true

require_relative "rails_helper"
require "open3"
require "json"
require "yaml"
require "tmpdir"

# Runs the rspec-rails suite in spec/fixtures/strict_suite (request, model, job
# and system specs, transactional fixtures), copied with the spec app into a
# temporary directory, in strict mode: `rake vto:baseline`, then runs that
# pass, fail for a new N+1, report and fail on stale entries, and the CI
# summary.
RSpec.describe "Strict mode with a baseline, in a real rspec-rails suite (#{VirtualTrainer::DB})" do
  root = File.expand_path("../..", __dir__)

  before do
    @dir = Dir.mktmpdir("vto-strict")
    @app = File.join(@dir, "app")
    FileUtils.cp_r(File.join(root, "spec/rails_app"), @app)
    FileUtils.cp_r(File.join(root, "spec/fixtures/strict_suite/."), @app)
    @baseline = File.join(@app, ".vto_baseline.yml")
    @summary = File.join(@dir, "summary")
  end

  after { FileUtils.rm_rf(@dir) }

  define_method(:run_suite) do |*command, **env|
    base = { "RUBYLIB" => File.join(root, "lib"), "VTO_DB" => VirtualTrainer::DB,
             "VTO_SQLITE_PATH" => File.join(@dir, "strict.sqlite3"),
             "VTO_PG_URL" => "postgresql://postgres@127.0.0.1:5432/vto_rails_strict",
             "VTO_JSONL" => File.join(@dir, "findings.jsonl"), "VTO_STRICT_BASELINE" => @baseline,
             "VTO_SUMMARY_DIR" => @summary, "DATABASE_URL" => nil, "CI" => nil, "GITHUB_ACTIONS" => nil,
             "VTO_BASELINE" => nil, "VTO_STRICT_NEW" => nil, "VTO_STRICT_FIXED" => nil, "VTO_STRICT_STALE" => nil, "VTO_STRICT_TAGGED" => nil,
             "SPEC_OPTS" => nil }
    command = ["rspec"] if command.empty?
    out, status = Open3.capture2e(base.merge(env), *command, chdir: @app)
    [out, status.exitstatus]
  end

  def entries
    YAML.safe_load(File.read(@baseline))["findings"]
  end

  it "writes the baseline, passes on it, fails a new N+1, and reports stale entries" do
    out, code = run_suite("rake", "vto:baseline", "VTO_BASELINE_COMMAND" => "rspec")
    expect(code).to eq(0), out
    expect(out).to include("virtual_trainer_optimizer: wrote 4 baseline entries to .vto_baseline.yml")
    expect(entries.map { |e| [e["kind"], e["path"], e["method"]] }).to contain_exactly(
      ["n_plus_one", "app/controllers/api/users_controller.rb", "Api::UsersController#index"],
      ["n_plus_one", "app/controllers/teams_controller.rb", "TeamsController#index"],
      ["n_plus_one", "app/jobs/custom_health_program_job.rb", "CustomHealthProgramJob#perform"],
      ["n_plus_one", "app/services/user_report.rb", "UserReport.workout_titles"]
    )
    expect(entries).to all(include("fingerprint" => match(/\A\h{16}\z/), "line" => Integer, "examples" => 1))
    text = File.read(@baseline)
    expect(text).to start_with("# virtual_trainer_optimizer strict-mode baseline")
    expect(text).not_to match(/"\s*=\s*\d|example\.com|Workout \d/)

    out, code = run_suite
    expect(code).to eq(0), out
    expect(out).to include("7 examples, 0 failures")
    expect(out).to include("strict mode: 0 example(s) failed for new findings; 7 parked finding(s) seen")
    expect(out).not_to include("no longer occur")

    out, code = run_suite("VTO_STRICT_NEW" => "1")
    expect(code).to eq(1)
    expect(out).to include("7 examples, 1 failure")
    expect(out).to include("rspec ./spec/requests/users_spec.rb:9 # Users API lists profiles")
    expect(out).to include("virtual_trainer_optimizer strict mode: this example introduced 1 new finding:\n" \
                           "         - N+1 query: ")
    expect(out).to match(%r{at app/controllers/api/users_controller\.rb:\d+ — SELECT "?profiles"?\.\* FROM})
    expect(out).to include("fix: User.includes(:profile)", "park it in .vto_baseline.yml by running `rake vto:baseline`")

    out, code = run_suite("VTO_STRICT_FIXED" => "1")
    expect(code).to eq(0), out
    expect(out).to include("1 baseline entry no longer occurs (remove it, or run `rake vto:baseline`):\n" \
                           "  - n_plus_one ")
    expect(out).to match(%r{  - n_plus_one \h{16} at app/services/user_report\.rb:\d+ in UserReport\.workout_titles — SELECT})

    out, code = run_suite("rspec", "spec/models", "VTO_STRICT_FIXED" => "1", "VTO_STRICT_STALE" => "fail")
    expect(code).to eq(0), out
    expect(out).to include("stale baseline entries are checked on full runs only")

    out, code = run_suite("VTO_STRICT_FIXED" => "1", "VTO_STRICT_STALE" => "fail")
    expect(code).to eq(1)
    expect(out).to include("7 examples, 0 failures, 1 error occurred outside of examples")
    expect(out).to include("1 stale baseline entry in #{@baseline} (strict mode stale: :fail)")

    out, code = run_suite("rake", "vto:baseline", "VTO_BASELINE_COMMAND" => "rspec", "VTO_STRICT_FIXED" => "1")
    expect(code).to eq(0), out
    expect(entries.map { |e| e["path"] }).not_to include("app/services/user_report.rb")
    expect(entries.size).to eq(3)
  end

  it "prints and writes the CI summary in CI only" do
    run_suite("rake", "vto:baseline", "VTO_BASELINE_COMMAND" => "rspec")
    FileUtils.rm_rf(@summary)
    out, = run_suite("VTO_STRICT_NEW" => "1")
    expect(out).not_to include("Top offenders")
    expect(Dir.exist?(@summary)).to be(false)

    out, code = run_suite("VTO_STRICT_NEW" => "1", "CI" => "true")
    expect(code).to eq(1)
    expect(out).to match(/virtual_trainer_optimizer: \d+ findings at \d+ places \(\d+ new, 4 baselined\)/)
    expect(out).to match(%r{Top offenders:\n  1\. \[\w+\] (N\+1 query|writes in a loop) at (app|spec)/})
    expect(out).to match(%r{^::warning file=app/controllers/api/users_controller\.rb,line=\d+,title=virtual_trainer_optimizer%3A N\+1 query})
    expect(out.scan(/^::warning .*users_controller\.rb,line=8,/)).to be_empty # baselined: no annotation
    expect(out).not_to match(/example\.com|"\s*=\s*\d/)

    json = JSON.parse(File.read(File.join(@summary, "findings.json")))
    expect(json["totals"].map { |t| t["kind"] }).to eq(%w[n_plus_one bulk_write])
    expect(json["offenders"].count { |o| o["baselined"] }).to eq(4)
    sarif = JSON.parse(File.read(File.join(@summary, "findings.sarif")))
    expect(sarif["version"]).to eq("2.1.0")
    results = sarif["runs"][0]["results"]
    expect(results.map { |r| r["baselineState"] }.tally).to include("unchanged" => 4, "new" => results.size - 4)
    profile = results.find { |r| r["message"]["text"].include?("profiles") }
    expect(profile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
      .to eq("app/controllers/api/users_controller.rb")
  end

  it "checks only the examples tagged vto_strict: true after strict_for_tagged!" do
    out, code = run_suite("VTO_STRICT_TAGGED" => "1")
    expect(code).to eq(0), out
    out, code = run_suite("VTO_STRICT_TAGGED" => "1", "VTO_STRICT_NEW" => "1")
    expect(code).to eq(1)
    expect(out).to include("7 examples, 1 failure", "rspec ./spec/requests/users_spec.rb:9 # Users API lists profiles")
  end

  it "refuses a baseline file it cannot read, and leaves it as it was" do
    File.write(@baseline, "findings: [1, 2\n")
    out, code = run_suite
    expect(code).not_to eq(0)
    expect(out).to include("#{@baseline} is not valid YAML")
    out, code = run_suite("rake", "vto:baseline", "VTO_BASELINE_COMMAND" => "rspec")
    expect(code).not_to eq(0)
    expect(out).to include("vto:baseline: `rspec` failed")
    expect(File.read(@baseline)).to eq("findings: [1, 2\n")
    File.write(@baseline, "findings:\n- path: app/models/user.rb\n")
    out, = run_suite
    expect(out).to include("#{@baseline}: entry 1 is not a finding (it needs at least a `kind`)")
  end
end
