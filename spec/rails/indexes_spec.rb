# frozen_string_literal: true

require_relative "rails_helper"
require "open3"
require "virtual_trainer_optimizer/indexes"

# The index advisor on the spec app's schema (db/schema.rb ends with the
# advisor's fixtures), on the database VTO_DB names: SQLite, PostgreSQL or
# MariaDB (rake spec:rails:mysql).
RSpec.describe "Index advisor (#{VirtualTrainer::DB})" do
  indexes = VirtualTrainerOptimizer::Indexes
  db = VirtualTrainer::DB

  let(:suggestions) { indexes.analyze(connection: ActiveRecord::Base.connection, usage: false) }

  def of_kind(kind)
    suggestions.select { |s| s.kind == kind }
  end

  def summary(list)
    list.map { |s| [s.table, s.columns] }.sort
  end

  it "finds every unindexed foreign key: declared, by association, by convention, polymorphic" do
    expected = [["api_request_logs", ["user_id"]], ["completed_workouts", ["user_id"]], ["diets", ["user_id"]],
                ["likes", %w[likeable_type likeable_id]], ["team_memberships", ["user_id"]]]
    # InnoDB indexes every declared foreign key itself.
    expected << ["notifications", ["user_id"]] unless db == "mysql"
    found = of_kind(:missing_foreign_key_index)
    expect(summary(found)).to eq(expected.sort)

    via = found.to_h { |s| [s.table, s.via] }
    expect(via).to include("api_request_logs" => "association", "likes" => "association",
                           "team_memberships" => "convention")
    expect(via["notifications"]).to eq("declared") unless db == "mysql"
  end

  it "writes the migration and SQL a senior engineer would, with the reason" do
    s = of_kind(:missing_foreign_key_index).find { |x| x.table == "api_request_logs" }
    version = ActiveRecord::Migration.current_version
    expect(s.index_name).to eq("index_api_request_logs_on_user_id")
    expect(s.migration).to include("< ActiveRecord::Migration[#{version}]")
    if db == "postgresql"
      expect(s.migration).to include("disable_ddl_transaction!", "add_index :api_request_logs, :user_id, algorithm: :concurrently")
      expect(s.sql).to eq("CREATE INDEX CONCURRENTLY index_api_request_logs_on_user_id ON api_request_logs (user_id);")
    else
      expect(s.migration).not_to include("disable_ddl_transaction!", "concurrently")
      expect(s.migration).to include("add_index :api_request_logs, :user_id")
      expect(s.sql).to eq("CREATE INDEX index_api_request_logs_on_user_id ON api_request_logs (user_id);")
    end
    expect(s.reason).to include("user_id")
    expect(%i[critical high medium low]).to include(s.priority)
    likes = of_kind(:missing_foreign_key_index).find { |x| x.table == "likes" }
    expect(likes.migration).to include("add_index :likes, [:likeable_type, :likeable_id]")
  end

  it "flags exact duplicates and left prefixes, and leaves unique, trigram and expression indexes alone" do
    found = of_kind(:redundant_index)
    expect(found.map { |s| [s.index_name, s.covered_by] }).to contain_exactly(
      %w[index_api_request_logs_on_created_at_again index_api_request_logs_on_created_at],
      %w[index_api_request_logs_on_path index_api_request_logs_on_path_and_created_at]
    )
    dup = found.find { |s| s.index_name.end_with?("_again") }
    expect(dup.migration).to include('remove_index :api_request_logs, column: :created_at, ' \
                                     'name: "index_api_request_logs_on_created_at_again"')
    drop = db == "mysql" ? "DROP INDEX index_api_request_logs_on_created_at_again ON api_request_logs;" : nil
    drop ||= db == "postgresql" ? "DROP INDEX CONCURRENTLY index_api_request_logs_on_created_at_again;" : "DROP INDEX index_api_request_logs_on_created_at_again;"
    expect(dup.sql).to eq(drop)
  end

  it "narrows by kind and checks its arguments" do
    only = indexes.analyze(connection: ActiveRecord::Base.connection, usage: false, kinds: [:redundant_index])
    expect(only.map(&:kind).uniq).to eq([:redundant_index])
    expect { indexes.analyze }.to raise_error(ArgumentError, /connection: or structure_sql:/)
    expect { indexes.analyze(connection: ActiveRecord::Base.connection, kinds: [:nope]) }
      .to raise_error(ArgumentError, /unknown kinds \[:nope\]/)
    expect { indexes.parse_structure("CREATE TABLE t (id int)", :oracle) }.to raise_error(ArgumentError, /dialect/)
  end

  describe "rake vto:indexes" do
    def run_task(env)
      run_rake("vto:indexes", env)
    end

    it "prints the advice as text, Markdown or JSON" do
      require "stringio"
      base = { "WORKLOAD" => nil, "VERIFY" => "0", "KINDS" => "missing_foreign_key_index,redundant_index" }
      text = with_config(jsonl_path: nil) { run_task(base.merge("FORMAT" => "text")) }
      expect(text).to match(/\Avirtual_trainer_optimizer: \d+ index suggestions\n\n1\. \[\w+\] /)
      expect(text).to include("add_index :api_request_logs, :user_id")
      markdown = with_config(jsonl_path: nil) { run_task(base.merge("FORMAT" => "markdown")) }
      expect(markdown).to start_with("## Index advice\n\n| # | Priority | Suggestion | Table | Columns |")
      expect(markdown).to include("```ruby\nclass ")
      json = JSON.parse(with_config(jsonl_path: nil) { run_task(base.merge("FORMAT" => "json")) })
      expect(json.map { |s| s["kind"] }.uniq).to contain_exactly("missing_foreign_key_index", "redundant_index")
      expect(json.first.keys).to include("migration", "sql", "reason", "priority", "columns", "cost_before")
      expect { run_task(base.merge("FORMAT" => "xml")) }.to raise_error(SystemExit)
    end
  end

  describe "workload indexes" do
    it "derives a composite from recorded SQL: equality first, then the range" do
      sql = ["SELECT * FROM api_request_logs WHERE status = 500 AND created_at > '2026-01-01'"] * 3
      found = indexes.analyze(connection: ActiveRecord::Base.connection, usage: false, kinds: [:workload_index],
                              workload: sql, min_rows: 0)
      expect(found.map { |s| [s.table, s.columns] }).to eq([["api_request_logs", %w[status created_at]]])
      expect(found.first.queries.map { |q| q["count"] }).to eq([3])
      expect(found.first.queries.first["sql"]).not_to include("500", "2026")
    end

    it "reads the JSON-lines log and links an N+1's filter column to the missing foreign-key index" do
      path = File.join(VirtualTrainer::TMP, "workload-#{Process.pid}.jsonl")
      FileUtils.rm_f(path)
      with_config(jsonl_path: path) do
        2.times { get "/api/users/counts" }
        VirtualTrainerOptimizer::JsonlSink.flush
      end
      found = indexes.analyze(connection: ActiveRecord::Base.connection, usage: false, workload: path, min_rows: 0)
      fk = found.find { |s| s.table == "completed_workouts" && s.columns == ["user_id"] }
      expect(fk.kind).to eq(:missing_foreign_key_index)
      expect(fk.queries.map { |q| [q["count"], q["n_plus_one"], q["locations"]] })
        .to eq([[2 * User.count, true, [marker("count")]]])
      expect(fk.reason).to include("N+1")
      expect(found.map(&:kind)).not_to include(:workload_index)
    ensure
      FileUtils.rm_f(path)
    end

    it "flags a write-heavy table with more indexes than its reads use" do
      writes = ["INSERT INTO api_request_logs (user_id, request_id, path, status, created_at, updated_at) " \
                "VALUES (1, 'r', '/p', 200, '2026-01-01', '2026-01-01')"] * 150
      reads = ["SELECT * FROM api_request_logs WHERE path = '/p' ORDER BY created_at"] * 10
      found = indexes.analyze(connection: ActiveRecord::Base.connection, usage: false, kinds: [:over_indexed_table],
                              workload: writes + reads, over_index_min: 5)
      expect(found.size).to eq(1)
      s = found.first
      expect([s.table, s.write_load["writes"], s.write_load["reads"]]).to eq(["api_request_logs", 150, 10])
      # Unique, redundant ones (reported as such) and those a read uses are never listed for removal.
      expect(s.droppable).to eq(["index_api_request_logs_on_request_id_and_status"])
      expect(s.migration).to include('remove_index :api_request_logs, column: [:request_id, :status]')
      expect { indexes.analyze(connection: ActiveRecord::Base.connection, workload: writes, over_index: 1) }
        .to raise_error(ArgumentError, /unknown options \[:over_index\]/)
    end

    it "checks its workload argument" do
      expect { indexes.analyze(connection: ActiveRecord::Base.connection, workload: 42) }
        .to raise_error(ArgumentError, /scan result, an Array of SQL strings or the path/)
      expect { indexes.analyze(connection: ActiveRecord::Base.connection, workload: "/nonexistent.jsonl") }
        .to raise_error(ArgumentError, %r{no JSON-lines workload file at /nonexistent.jsonl})
      expect { indexes.analyze(structure_sql: "", verify: true) }.to raise_error(ArgumentError, /verify: needs a connection/)
    end
  end

  if db == "sqlite"
    it "describes a table by PRAGMA as it does from its CREATE statement (the fallback for what it cannot parse)" do
      sqlite = VirtualTrainerOptimizer::Introspection::SQLite
      connection = ActiveRecord::Base.connection
      parsed = sqlite.schema(connection)["tables"].to_h { |t| [t["name"], t] }
      shape = lambda do |t|
        [t["primary_key"], t["indexes"].map { |i| [i["name"], i["keys"].map { |k| k["column"] }, i["unique"]] }.sort,
         t["foreign_keys"].map { |f| [f["columns"], f["to_table"], f["on_delete"]] }, t["columns"].map { |c| c["name"] }]
      end
      %w[api_request_logs notifications team_memberships likes].each do |name|
        pragma = JSON.parse(JSON.generate(sqlite.from_pragma(connection, name)))
        expected = shape.call(parsed[name])
        # PRAGMA cannot describe a partial index: the fallback leaves it out.
        expected[1].reject! { |i| i[0] == "index_notifications_unread" }
        expect(shape.call(pragma)).to eq(expected)
      end
    end
  end

  if db == "postgresql"
    it "verifies workload indexes with the planner (HypoPG, or a rolled-back index), inside an open transaction, " \
       "and drops what it would not use" do
      connection = ActiveRecord::Base.connection
      ActiveRecord::Base.transaction do
        uid = User.order(:id).pick(:id)
        wid = Workout.order(:id).pick(:id)
        connection.execute(<<~SQL)
          INSERT INTO completed_workouts (user_id, workout_id, calories, created_at, updated_at)
          SELECT (g % 2000) + #{uid}, #{wid}, g % 2, now() - (g || ' minutes')::interval, now()
          FROM generate_series(1, 50000) g
        SQL
        connection.execute("ANALYZE completed_workouts")
        result = VirtualTrainerOptimizer.scan do
          CompletedWorkout.where(user_id: uid).where(created_at: 30.days.ago..).order(created_at: :desc).limit(20).to_a
          # Half the table: the planner reads it all in id order whatever the index.
          CompletedWorkout.where(calories: 1).order(:id).to_a
        end
        unverified = indexes.analyze(connection: connection, usage: false, workload: result, kinds: [:workload_index])
        expect(unverified.map(&:columns)).to contain_exactly(%w[user_id created_at], %w[calories id])
        %i[hypopg transaction].each do |using|
          found = indexes.analyze(connection: connection, usage: false, workload: result, verify: using,
                                  kinds: %i[workload_index missing_foreign_key_index])
          composite = found.find { |s| s.table == "completed_workouts" }
          expect(composite.columns).to eq(%w[user_id created_at])
          expect(composite.kind).to eq(:workload_index)
          expect(composite.verified).to be(true)
          expect(composite.cost_after).to be < composite.cost_before / 10
          expect(composite.reason).to include("covers the foreign key user_id")
          expect(composite.reason).to match(/The index would take about [\d.]+ [KM]B for 5\d,\d{3} rows \(estimated\)/)
          expect(composite.size_bytes).to be_between(500_000, 3_000_000)
          expect(found.select { |s| s.table == "completed_workouts" }.map(&:columns)).to eq([%w[user_id created_at]])
        end
        expect { indexes.analyze(connection: connection, workload: result, verify: :maybe) }
          .to raise_error(ArgumentError, /verify: must be true, :hypopg or :transaction/)
        # HypoPG leaves nothing behind.
        expect(connection.select_value("SELECT count(*) FROM hypopg_list_indexes").to_i).to eq(0)
        expect(connection.indexes(:completed_workouts).map(&:columns)).not_to include(%w[user_id created_at])
        raise ActiveRecord::Rollback
      end
      expect(CompletedWorkout.count).to be < 1000
    end

    it "adds what the generic plan shows to a slow query's fix, and leaves the app's transaction usable" do
      connection = ActiveRecord::Base.connection
      ActiveRecord::Base.transaction do
        uid = User.order(:id).pick(:id)
        connection.execute(<<~SQL)
          INSERT INTO completed_workouts (user_id, workout_id, calories, created_at, updated_at)
          SELECT (g % 2000) + #{uid}, NULL, g % 700, now(), now() FROM generate_series(1, 50000) g
        SQL
        connection.execute("ANALYZE completed_workouts")
        finding = nil
        slow = lambda do
          finding = VirtualTrainerOptimizer.scan(slow_query_ms: 0.001) { CompletedWorkout.where(user_id: uid).to_a }
                                           .findings_of(:slow_query).first
          finding.suggestion
        end
        expect(with_config(explain_slow_queries: false) { slow.call }).to include("check its plan with EXPLAIN ANALYZE")
        VirtualTrainerOptimizer::FixHint.clear_caches!
        hint = with_config(explain_slow_queries: true) { slow.call }
        expect(hint).to match(/its plan: Seq Scan on completed_workouts reads all of its about 5\d{4} rows/)
        expect(hint).to include("(user_id)")
        expect(finding.plan["findings"].map { |f| f["kind"] }).to eq(["seq_scan_on_large_table"])
        expect(finding.to_h[:plan_findings].first).to include("relation" => "completed_workouts")
        expect(hint).not_to match(/= \d/)
        expect(CompletedWorkout.count).to be > 50_000 # the transaction goes on
        raise ActiveRecord::Rollback
      end
    end

    it "reports unused indexes from the statistics, never unique or primary ones" do
      unused = indexes.analyze(connection: ActiveRecord::Base.connection, kinds: [:unused_index])
      names = unused.map(&:index_name)
      expect(names).to include("index_api_request_logs_on_path_and_created_at")
      expect(names).not_to include("index_api_request_logs_on_request_id", "users_pkey")
      expect(unused).to all(have_attributes(priority: :low))
    end

    it "gives the same advice from a pg_dump of the database, without a connection" do
      url = URI(ENV["DATABASE_URL"].split("?").first)
      dump, status = Open3.capture2("pg_dump", "--schema-only", "--no-owner", "-h", url.host, "-p", url.port.to_s,
                                    "-U", url.user || "postgres", url.path.delete_prefix("/"))
      expect(status.success?).to be(true)
      schema, warnings = indexes.parse_structure(dump)
      expect(warnings).to eq([])
      expect(schema["tables"].map { |t| t["name"] }).to include("notifications", "team_memberships")
      offline = indexes.analyze(structure_sql: dump)
      key = ->(list) { list.reject { |s| s.kind == :unused_index }.map { |s| [s.kind, s.table, s.columns, s.index_name] }.sort }
      expect(key.call(offline)).to eq(key.call(suggestions))
    end
  end
end

require "virtual_trainer_optimizer/rspec"

RSpec.describe "Schema matchers (#{VirtualTrainer::DB})" do
  it "fails with each unindexed foreign key and its migration, and passes once they are ignored" do
    message = failure_of { expect(VirtualTrainerOptimizer).to have_no_unindexed_foreign_keys }
    expect(message).to start_with("expected no unindexed foreign keys, got ")
    expect(message).to include("missing foreign key index [", "api_request_logs (user_id)",
                               "add_index :api_request_logs, :user_id")
    ignored = %w[api_request_logs.user_id completed_workouts diets likes team_memberships notifications]
    expect(VirtualTrainerOptimizer).to have_no_unindexed_foreign_keys.ignoring(*ignored)
  end

  it "fails with each redundant index and the index that covers it" do
    message = failure_of { expect(VirtualTrainerOptimizer).to have_no_redundant_indexes }
    expect(message).to start_with("expected no redundant indexes, got 2:")
    expect(message).to include("index_api_request_logs_on_path_and_created_at", "remove_index :api_request_logs")
    expect(VirtualTrainerOptimizer).to have_no_redundant_indexes
      .ignoring("index_api_request_logs_on_path", "index_api_request_logs_on_created_at_again")
    expect(VirtualTrainerOptimizer).to have_no_redundant_indexes.on(ActiveRecord::Base.connection).ignoring("api_request_logs")
  end
end
