# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "tmpdir"
require "json-schema"

# bin/demo's body in its own processes (the demo is another Rails app): the
# report on the demo's workload, in every format, on SQLite and PostgreSQL.
RSpec.describe "bin/demo report" do
  root = File.expand_path("../..", __dir__)
  dir = Dir.mktmpdir("vto-demo")
  runs = {}

  # Runs the demo once per format and database, and keeps what it wrote.
  run = lambda do |format, env = {}|
    runs[[format, env]] ||= begin
      out = File.join(dir, "report-#{runs.size}.#{format}")
      input = File.join(dir, "input-#{runs.size}.json")
      log, status = Open3.capture2e({ "DATABASE_URL" => nil }.merge(env), RbConfig.ruby, "demo/script/run.rb",
                                    "--format", format, "--output", out, "--save-input", input, chdir: root)
      raise "bin/demo --format #{format} failed (#{status.exitstatus}):\n#{log}" unless status.success?

      { report: File.read(out), input: JSON.parse(File.read(input)), log: log, path: out }
    end
  end

  after(:all) { FileUtils.rm_rf(dir) }

  let(:sqlite) { run.call("json") }
  let(:report) { JSON.parse(sqlite[:report]) }
  let(:all_recommendations) do
    report["recommendations"] + report["infrastructure"]["recommendations"] + report["governance"]["recommendations"]
  end

  def recommendation(category, &block)
    all_recommendations.select { |r| r["category"] == category }.find(&block)
  end

  it "writes JSON that validates against docs/report.schema.json, with the five sections" do
    schema = JSON.parse(File.read(File.join(root, "docs/report.schema.json")))
    expect(JSON::Validator.fully_validate(schema, report)).to eq([])
    expect(report.keys).to include("assessment", "recommendations", "infrastructure", "governance", "roadmap")
    expect(sqlite[:log]).to match(/120 requests and 4 jobs on SQLite in [\d.]+ s/)
  end

  it "assesses the workload it drove: requests, jobs, N+1s, endpoints and jobs with their figures" do
    workload = report["assessment"]["workload"]
    expect(workload).to include("source" => "jsonl", "requests" => 120, "jobs" => 4)
    expect(workload["queries"]).to be > 1000
    n_plus_ones = report["assessment"]["n_plus_ones"]
    completed = n_plus_ones.select { |n| n["unit"] == "Api::V1::CompletedWorkoutsController#index" }
    expect(completed.map { |n| n["location"] }).to include("app/controllers/api/v1/completed_workouts_controller.rb:12")
    expect(completed.find { |n| n["sql"].include?('FROM "completed_exercises"') }).to include("queries_per_unit" => 30, "occurrences" => 30)
    expect(n_plus_ones.map { |n| n["unit"] }).to include("Api::V1::TeamsController#statistics", "WeeklySummaryJob")
    dashboard = report["assessment"]["endpoints"].find { |e| e["name"] == "DashboardController#show" }
    expect(dashboard["view_share"]).to be > 0.5
    slow = report["assessment"]["slow_jobs"].map { |j| j["name"] }
    expect(slow).to eq(["CustomHealthProgramJob"])
    expect(report["assessment"]["table_growth"].map { |t| t["table"] }).to include("api_request_logs")
  end

  it "recommends the exact fixes, each traceable to the evidence it came from" do
    # Line 12 loads each workout's completed exercises and each of those's exercise: two N+1s,
    # ordered by their measured time, which varies from run to run.
    at_line12 = all_recommendations.select do |r|
      r["category"] == "n_plus_one" && r["location"] == "app/controllers/api/v1/completed_workouts_controller.rb:12"
    end
    preload = at_line12.find { |r| r["solution"].include?("CompletedWorkout.includes(:completed_exercises)") }
    expect(preload["impact"]["queries_saved_per_request"]).to be >= 29
    expect(at_line12.map { |r| r["solution"] }).to include(a_string_including("CompletedExercise.includes(:exercise)"))
    counts = recommendation("n_plus_one") { |r| r["location"] == "app/controllers/api/v1/teams_controller.rb:10" }
    expect(counts["solution"]).to match(/counter_cache|group/)
    index = recommendation("missing_index") { |r| r["solution"].include?("add_index :completed_workouts") }
    expect(index["solution"]).to include(":user_id")
    expect(recommendation("redundant_index") { |r| r["solution"].include?("notifications") }).not_to be_nil
    expect(recommendation("fragment_caching") { |r| r["title"].include?("DashboardController#show") }).not_to be_nil
    expect(recommendation("erasure") { |r| r["title"].include?("injuries") }).not_to be_nil
    expect(recommendation("retention") { |r| r["title"].include?("api_request_logs") }).not_to be_nil

    input = sqlite[:input]
    known = {
      "finding" => input["findings"].map { |f| "#{f['kind']}:#{f['fingerprint']}" },
      "fingerprint" => input["workload"]["fingerprints"].map { |f| f["fingerprint"] },
      "index" => input["indexes"].map { |i| "#{i['kind']}:#{i['table']}" },
      "unit" => input["workload"]["units"].map { |u| u["name"] },
      "governance" => input["governance"].map { |g| "#{g['kind']}:#{g['table']}" },
      # external:<finding kind or cost>:<scope>:<METHOD host+path, or model>
      "external" => input["external"]["scopes"].flat_map do |scope|
        scope["calls"].flat_map { |c| ["#{scope['name']}:#{c['method']} #{c['host']}#{c['path']}", "#{scope['name']}:#{c['model']}"] }
      end
    }
    all_recommendations.each do |r|
      expect(r["evidence"]).not_to be_empty, "#{r['id']} has no evidence"
      r["evidence"].each do |e|
        kind, rest = e.split(":", 2)
        next if kind == "infrastructure"

        rest = rest.split(":", 2).last if kind == "external"

        expect(known.fetch(kind) { raise "#{r['id']}: unknown evidence #{e}" }).to include(rest), "#{r['id']}: #{e}"
      end
    end
  end

  it "sizes the infrastructure from the deployment: connection budget, PgBouncer, capacity, Sidekiq queues" do
    infra = report["infrastructure"]
    budget = infra["connection_budget"]
    # 2 web dynos x 2 Puma workers x pool 5, 1 worker x pool 5, 1 one-off x 5, against essential-0's 20.
    expect(budget).to include("total" => 30, "max_connections" => 20, "max_connections_source" => "plan", "verdict" => "over")
    expect(infra["pool_mismatches"].map { |m| [m["process"], m["pool"], m["needed"]] }).to eq([["worker", 5, 10]])
    expect(infra["pgbouncer"]["needed"]).to be(true)
    expect(infra["pgbouncer"]["config"]).to include("PGBOUNCER_DEFAULT_POOL_SIZE", "prepared_statements: false")
    expect(infra["capacity"]).to include("prices_as_of" => "2024-09-26", "dynos_configured" => 2)
    expect(infra["capacity"]["monthly_cost_usd"]).to be_a(Numeric)
    long = infra["sidekiq"]["queues"].find { |q| q["name"] == "long_running" }
    expect(long["jobs"]).to eq(["CustomHealthProgramJob"])
  end

  it "shows the AI calls: the request waiting on the model, the repeated prompt, the slow job's queue, the bill" do
    calls = sqlite[:input]["external"]["scopes"].flat_map { |s| s["calls"].map { |c| [s["name"], c["model"]] } }
    expect(calls).to match_array([["Api::V1::HealthProgramsController#create", "gpt-4o-mini-2024-07-18"]] * 3 +
                                 [["CustomHealthProgramJob", "gpt-4o-2024-07-18"]])
    external = report["assessment"]["external"]
    expect(external["calls"]).to eq(4)
    # 3 × (900 × 0.15 + 1,400 × 0.60) / 10⁶ + (900 × 2.50 + 1,400 × 10.00) / 10⁶
    expect(external["cost_usd"]).to be_within(1e-9).of(3 * 0.000975 + 0.01625)
    in_request = recommendation("external_call_in_request") { |r| r["title"].include?("HealthProgramsController#create") }
    expect(in_request["solution"]).to include("perform_later")
    expect(in_request["location"]).to eq("app/services/openai_chat.rb:21")
    expect(recommendation("duplicate_external_call") { |r| r["issue"].include?("2 times") }["solution"])
      .to include("Rails.cache.fetch")
    expect(recommendation("slow_external_call") { |r| r["title"].include?("CustomHealthProgramJob") }).not_to be_nil
    # The client's 60 s read timeout outlives Heroku's 30 s router timeout.
    expect(recommendation("external_timeout") { |r| r["title"].include?("HealthProgramsController#create") })
      .not_to be_nil

    # The slow AI job's queue is the Sidekiq layout's long_running one, held to what the rate limit allows.
    provider = report["infrastructure"]["external"]["providers"].first
    expect(provider).to include("host" => "127.0.0.1", "max_concurrency" => 1,
                                "rate_limit" => { "requests_per_minute" => 500, "tokens_per_minute" => 30_000 })
    queue = recommendation("external_queue") { |r| r["title"].include?("long_running") }
    sidekiq = recommendation("sidekiq_queues") { |r| r["solution"].include?("long_running") }
    expect(queue["depends_on"]).to eq([sidekiq["id"]])
    long = report["infrastructure"]["sidekiq"]["queues"].find { |q| q["name"] == "long_running" }
    expect(long["concurrency"]).to eq(1)

    projection = report["infrastructure"]["external"]
    expect(projection["monthly_scale"]).to eq(720)
    expect(projection["monthly_cost_usd"]).to be_within(0.01).of((3 * 0.000975 + 0.01625) * 720)
    expect(projection["monthly_cost_by_growth"].map { |g| g["growth"] }).to eq([1, 2, 5, 10])
    expect(recommendation("external_cost") { true }["depends_on"]).not_to be_empty
  end

  it "orders the roadmap by dependency and priority, with every recommendation once" do
    roadmap = report["roadmap"]
    expect(roadmap.map { |s| s["id"] }).to match_array(all_recommendations.map { |r| r["id"] })
    expect(roadmap.map { |s| s["step"] }).to eq((1..roadmap.size).to_a)
    position = roadmap.each_with_index.to_h { |s, i| [s["id"], i] }
    all_recommendations.each do |r|
      r["depends_on"].each { |d| expect(position.fetch(d)).to be < position.fetch(r["id"]) }
    end
    expect(roadmap.first["priority"]).to eq("critical")
  end

  it "prints the sections in order in text, without colour when not on a terminal" do
    text = run.call("text")[:report]
    headings = ["1. CURRENT STATE ASSESSMENT", "2. OPTIMIZATION RECOMMENDATIONS", "3. INFRASTRUCTURE RECOMMENDATIONS",
                "4. DATA GOVERNANCE RECOMMENDATIONS", "5. IMPLEMENTATION ROADMAP"]
    expect(headings.map { |h| text.index(h) }).to eq(headings.map { |h| text.index(h) }.compact.sort)
    expect(text).not_to include("\e[")
    markdown = run.call("markdown")[:report]
    expect(markdown).to include("## 2. OPTIMIZATION RECOMMENDATIONS").and include("```ruby")
  end

  it "writes a self-contained HTML page that headless Chromium renders, with its charts" do
    html = run.call("html")
    page = html[:report]
    expect(page).not_to match(/<script|<link[^>]+href="http|src="http/i)
    %w[chart-query-time chart-queries-per-request chart-table-growth].each { |id| expect(page).to include(%(id="#{id}")) }
    chromium = %w[chromium chromium-browser].product(ENV.fetch("PATH", "").split(File::PATH_SEPARATOR))
                                            .map { |name, path| File.join(path, name) }.find { |f| File.executable?(f) }
    raise "Chromium is missing: bin/setup --services installs Debian's chromium" unless chromium

    shot = File.join(dir, "report.png")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2400"]
    _, status = Open3.capture2e(chromium, *flags, "--screenshot=#{shot}", "file://#{html[:path]}")
    expect(status).to be_success
    png = File.binread(shot)
    expect(png[0, 8]).to eq("\x89PNG\r\n\x1A\n".b)
    expect(png.bytesize).to be > 20_000 # a blank page is a few KB
    dom, = Open3.capture2e(chromium, *flags, "--dump-dom", "file://#{html[:path]}")
    expect(dom.scan(/<rect[^>]*class="bar/).size).to be >= 3
  end

  it "runs against PostgreSQL when given a DATABASE_URL" do
    url = ENV.fetch("VTO_DEMO_PG_URL", "postgresql://postgres@127.0.0.1:5432/vto_demo_test")
    require "pg"
    admin = PG.connect(host: "127.0.0.1", user: "postgres", dbname: "postgres")
    admin.set_notice_processor { |_| nil }
    admin.exec("DROP DATABASE IF EXISTS vto_demo_test")
    admin.exec("CREATE DATABASE vto_demo_test")
    admin.close
    pg = JSON.parse(run.call("json", { "DATABASE_URL" => url })[:report])
    expect(pg["dialect"]).to eq("postgresql")
    expect(pg["assessment"]["workload"]).to include("requests" => 120, "jobs" => 4)
    expect(pg["assessment"]["schema"]["rows"]).to be > 1000
    categories = pg["recommendations"].map { |r| r["category"] }
    expect(categories).to include("n_plus_one", "missing_index", "redundant_index", "fragment_caching")
    # The server is reachable: its own max_connections, not the plan's table.
    budget = pg["infrastructure"]["connection_budget"]
    expect(budget["max_connections_source"]).to eq("server")
    expect(budget["max_connections"]).to be > 20
  end
end
