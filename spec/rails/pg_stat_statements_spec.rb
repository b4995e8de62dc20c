# frozen_string_literal: true

require_relative "rails_helper"
require "virtual_trainer_optimizer/indexes"
require "virtual_trainer_optimizer/report/pg_stat_statements_workload"

# pg_stat_statements as a workload source, on PostgreSQL only. The library
# must be preloaded (bin/setup --services does it before any suite runs): a
# server without it fails these examples, it does not skip them.
if VirtualTrainer::DB == "postgresql"
  RSpec.describe "pg_stat_statements workload (postgresql)" do
    reader = VirtualTrainerOptimizer::Report::PgStatStatementsWorkload
    indexes = VirtualTrainerOptimizer::Indexes

    let(:connection) { ActiveRecord::Base.connection }

    before(:all) do
      connection = ActiveRecord::Base.connection
      preload = connection.select_value("SHOW shared_preload_libraries").to_s
      unless preload.split(",").map { |l| l.strip.delete('"') }.include?("pg_stat_statements")
        raise "pg_stat_statements is not preloaded on the test PostgreSQL (shared_preload_libraries = " \
              "#{preload.inspect}): run bin/setup --services, which sets it and restarts the server"
      end
      connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    end

    # Only this database's statements: the server is shared with other suites.
    def reset_statements
      connection.execute("SELECT pg_stat_statements_reset(0, oid, 0) FROM pg_database " \
                         "WHERE datname = current_database()")
    end

    def by_fingerprint(workload)
      workload[:fingerprints].to_h { |f| [f[:fingerprint], f] }
    end

    it "sums the statements the app ran per fingerprint, as the in-process detector fingerprints them" do
      ids = User.order(:id).limit(3).pluck(:id)
      ActiveRecord::Base.transaction do
        reset_statements
        result = VirtualTrainerOptimizer.scan do
          ids.each { |id| User.find(id) }
          # Lists of two lengths: two statements for PostgreSQL, one fingerprint.
          User.where(id: ids.first(2)).to_a
          User.where(id: ids).to_a
          Workout.where(user_id: ids.first).count
          ApiRequestLog.create!(user_id: ids.first, request_id: "pgss-1", path: "/p", status: 200)
        end
        workload = reader.new(connection).workload("postgresql")
        expect(workload).to include(source: "pg_stat_statements", units: [])
        expect(workload[:window_seconds]).to be > 0 # since the server started or the last full reset

        found = by_fingerprint(workload)
        expect(result.totals.size).to eq(4)
        result.totals.each do |fp, count, _ms, sql|
          entry = found[fp]
          expect(entry).not_to be_nil, "#{sql} (#{fp}) is missing from #{found.values.map { |f| f[:sql] }}"
          expect([entry[:sql], entry[:calls], entry[:units], entry[:call_sites]]).to eq([sql, count, [], []])
          expect(entry[:total_ms]).to be > 0
        end
        find = found.values.find { |f| f[:sql].match?(/"users"\."id" = \? LIMIT \?/) }
        expect(find).to include(calls: 3, rows: 3, statement: "select", tables: ["users"])
        listed = found.values.find { |f| f[:sql].include?("IN (?)") }
        expect(listed).to include(calls: 2, rows: 5)
        insert = found.values.find { |f| f[:statement] == "insert" }
        expect(insert).to include(tables: ["api_request_logs"], calls: 1, rows: 1)
        # Transaction control, the reset and the catalog reads are not the app's workload.
        expect(found.values.map { |f| f[:sql] }).to all(satisfy { |s| !s.match?(/\A(SAVEPOINT|RELEASE|BEGIN)|pg_/i) })
        expect(found.keys).to match_array(result.totals.map(&:first))
        raise ActiveRecord::Rollback
      end
    end

    it "reports statements slower on average than slow_query_ms, shaped as the JSON-lines findings" do
      reset_statements
      3.times { CompletedWorkout.where(calories: 300).order(:created_at).to_a }
      statements = reader.new(connection)
      expect(with_config(slow_query_ms: 10_000) { statements.findings }).to eq([])
      expect(with_config(slow_query_ms: nil) { statements.findings }).to eq([])
      slow = with_config(slow_query_ms: 0.0001) { statements.findings }
      finding = slow.find { |f| f[:table] == "completed_workouts" }
      entry = statements.statements.find { |s| s[:fingerprint] == finding[:fingerprint] }
      expect(finding).to include(kind: "slow_query", count: 1, occurrences: 3, location: nil, scope_kind: nil,
                                 scope_name: nil)
      expect(finding[:total_ms]).to be_within(0.001).of(entry[:total_ms] / 3)
      # The detector's ladder on one execution's time.
      ladder = { 500 => "critical", 100 => "high", 20 => "medium", 0 => "low" }
      expect(finding[:priority]).to eq(ladder.find { |ms, _| finding[:total_ms] >= ms }.last)
      expect(finding[:max_ms]).to be >= finding[:total_ms]
      expect(finding[:suggestion]).to include("over 3 calls", "EXPLAIN ANALYZE")
      expect(finding[:sql]).to eq(VirtualTrainerOptimizer::SQL.normalize(
                                    CompletedWorkout.where(calories: 300).order(:created_at).to_sql
                                  ))

      # The same keys as the detector's findings read back from JSON lines.
      path = File.join(VirtualTrainer::TMP, "pgss-#{Process.pid}.jsonl")
      File.write(path, "#{JSON.generate(type: 'finding', kind: 'slow_query', fingerprint: 'f', count: 1)}\n")
      expect(finding.keys).to match_array(VirtualTrainerOptimizer::Report::JsonlWorkload.new(path).findings.first.keys)
    ensure
      FileUtils.rm_f(path) if path
    end

    it "gives the index advisor the database's workload: a missing index on a large table" do
      ActiveRecord::Base.transaction do
        uid = User.order(:id).pick(:id)
        connection.execute(<<~SQL)
          INSERT INTO api_request_logs (user_id, request_id, path, status, created_at, updated_at)
          SELECT #{uid}, 'pgss-' || g, '/p/' || (g % 100), 200 + g % 50, now() - (g || ' minutes')::interval, now()
          FROM generate_series(1, 50000) g
        SQL
        connection.execute("ANALYZE api_request_logs")
        reset_statements
        result = VirtualTrainerOptimizer.scan do
          4.times { ApiRequestLog.where(status: 500).where(created_at: 2.days.ago..).order(:created_at).to_a }
        end
        fp, count, = result.totals.first
        statements = reader.new(connection)
        entry = statements.statements.find { |s| s[:fingerprint] == fp }
        expect(entry).to include(calls: count, statement: "select", tables: ["api_request_logs"])

        found = indexes.analyze(connection: connection, usage: false, workload: :pg_stat_statements,
                                kinds: [:workload_index], verify: true)
        expect(found.map { |s| [s.table, s.columns] }).to eq([["api_request_logs", %w[status created_at]]])
        suggestion = found.first
        expect(suggestion.verified).to be(true)
        expect(suggestion.queries.map { |q| [q["fingerprint"], q["count"]] }).to eq([[fp, 4]])
        expect(suggestion.time_ms).to be > 0
        # A reader built with its own limits serves as well.
        again = indexes.analyze(connection: connection, usage: false, workload: statements, kinds: [:workload_index])
        expect(again.map(&:columns)).to eq([%w[status created_at]])
        raise ActiveRecord::Rollback
      end
    end

    it "says what is missing, and leaves the app's transaction usable" do
      ActiveRecord::Base.transaction do
        connection.execute("DROP EXTENSION pg_stat_statements")
        expect { reader.new(connection) }
          .to raise_error(ArgumentError, /shared_preload_libraries.*CREATE EXTENSION pg_stat_statements/)
        expect(User.count).to be > 0
        raise ActiveRecord::Rollback
      end
      expect { reader.new(connection, limit: 0) }.to raise_error(ArgumentError, /limit must be a positive Integer/)
      expect { indexes.analyze(structure_sql: "", workload: :pg_stat_statements) }
        .to raise_error(ArgumentError, /:pg_stat_statements needs a connection/)
      expect { indexes.analyze(connection: connection, workload: :pg_stat) }
        .to raise_error(ArgumentError, /or :pg_stat_statements, got :pg_stat/)
    end
  end
end
