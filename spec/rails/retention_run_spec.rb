# frozen_string_literal: true

require_relative "rails_helper"
require "open3"
require "tmpdir"
require "securerandom"
require "stringio"
require "digest"
require "virtual_trainer_optimizer/retention"

# The retention executor on the database VTO_DB names, with generated rows
# around each policy's cutoff: what a dry run and a run do, the limits, the
# kill switch, the audit table, a second runner, and a run killed with
# SIGKILL.
RSpec.describe "Retention run (#{VirtualTrainer::DB})" do
  retention = VirtualTrainerOptimizer::Retention
  now = Time.utc(2026, 6, 1, 12)

  let(:connection) { ActiveRecord::Base.connection }

  def define_policies(batch_size: 7)
    VirtualTrainerOptimizer::Retention.define do
      table :api_request_logs, keep: 90.days, action: :delete, where: "status <> 500", batch_size: batch_size
      table :completed_workouts, keep: 2.years, action: :archive, where: "calories > 0", batch_size: batch_size
      table :body_measurements, keep: 1.year, action: :anonymize, columns: %i[weight_kg body_fat_pct],
                                batch_size: batch_size
    end
  end

  # Rows at random ages up to twice the period, and on both sides of the
  # cutoff to the second.
  def ages(keep, count, random)
    Array.new(count) { random.rand(0..(2 * keep)) } + [keep - 1, keep, keep + 1]
  end

  def generate(now, logs: 120, workouts: 60, measurements: 60)
    random = Random.new(42)
    user = User.first
    workout = Workout.first
    ApiRequestLog.insert_all(ages(90 * 86_400, logs, random).each_with_index.map do |age, i|
      at = now - age
      { request_id: "req-#{SecureRandom.hex(6)}", path: "/api/v1/workouts/#{i}", status: [200, 500, nil, 404][i % 4], user_id: user.id,
        created_at: at, updated_at: at }
    end)
    two_years = 2.years.to_i
    CompletedWorkout.insert_all(ages(two_years, workouts, random).each_with_index.map do |age, i|
      at = now - age
      { user_id: user.id, workout_id: workout.id, calories: i % 3 == 0 ? 0 : 100 + i, created_at: at, updated_at: at }
    end)
    BodyMeasurement.insert_all(ages(1.year.to_i, measurements, random).each_with_index.map do |age, i|
      at = now - age
      { user_id: user.id, weight_kg: 70 + i, body_fat_pct: i.even? ? 18 : nil, resting_heart_rate: 60,
        measured_at: at, created_at: at, updated_at: at }
    end)
  end

  def rows(model)
    model.order(:id).map { |r| r.attributes.transform_values { |v| v.is_a?(Time) ? v.utc.iso8601(6) : v } }
  end

  def archive_rows
    connection.select_all("SELECT * FROM completed_workouts_archive ORDER BY id").map do |r|
      CompletedWorkout.instantiate(r).attributes.transform_values { |v| v.is_a?(Time) ? v.utc.iso8601(6) : v }
    end
  end

  # Periods are fixed lengths of time (a year is 365.2425 days), as in the policies.
  def expired?(row, keep, now)
    Time.iso8601(row["created_at"]) < now - keep.to_i
  end

  # The rows and tables of one example; the seeds stay (other specs read them).
  def clean
    %w[completed_workouts_archive vto_retention_runs vto_retention_control].each do |t|
      connection.drop_table(t) if connection.table_exists?(t)
    end
    ApiRequestLog.delete_all
    CompletedWorkout.where.not(id: CompletedExercise.select(:completed_workout_id)).delete_all
    BodyMeasurement.delete_all
  end

  before do
    clean
    define_policies
    generate(now)
  end

  after do
    retention.reset!
    clean
  end

  it "changes nothing in a dry run, and reports the counts and the SQL of each table's first batch" do
    before = [rows(ApiRequestLog), rows(CompletedWorkout), rows(BodyMeasurement)]
    summary = retention.run(connection: connection, now: now)

    expect(summary).to be_dry_run
    expect(summary.status).to eq(:dry_run)
    expect([rows(ApiRequestLog), rows(CompletedWorkout), rows(BodyMeasurement)]).to eq(before)
    %w[completed_workouts_archive vto_retention_runs vto_retention_control].each do |t|
      expect(connection.table_exists?(t)).to be(false), "the dry run created #{t}"
    end

    logs = before[0].select { |r| expired?(r, 90.days, now) && r["status"] && r["status"] != 500 }
    expect(summary["api_request_logs"].matched).to eq(logs.size)
    expect(summary["api_request_logs"].deleted).to eq(0)
    expect(summary["api_request_logs"].sql.first).to match(/\ADELETE FROM .api_request_logs. WHERE .id. >= \d+ AND .id. <= \d+ AND .created_at. < '2026-03-03 12:00:00' AND \(status <> 500\)\z/)
    archive = summary["completed_workouts"]
    expect(archive.reason).to eq("would create completed_workouts_archive with the columns of completed_workouts")
    expect(archive.sql.join("\n")).to include("completed_workouts_archive", "DELETE FROM")
    measurements = before[2].select { |r| expired?(r, 1.year, now) }
    expect(summary["body_measurements"].matched).to eq(measurements.size)
    expect(summary["body_measurements"].sql.first).to start_with("UPDATE").and include("IS NOT NULL")
  end

  it "deletes, archives and anonymizes exactly the expired rows matching the condition, and nothing else" do
    logs, workouts, measurements = rows(ApiRequestLog), rows(CompletedWorkout), rows(BodyMeasurement)
    summary = retention.run(connection: connection, dry_run: false, now: now, pause: 0)
    expect(summary.status).to eq(:completed)

    doomed = logs.select { |r| expired?(r, 90.days, now) && r["status"] && r["status"] != 500 }
    expect(doomed.size).to be > 10
    expect(rows(ApiRequestLog)).to eq(logs - doomed)
    expect(summary["api_request_logs"]).to have_attributes(matched: doomed.size, deleted: doomed.size, status: :done)

    moved = workouts.select { |r| expired?(r, 2.years, now) && r["calories"].positive? }
    expect(moved.size).to be > 5
    expect(archive_rows).to eq(moved)
    expect(rows(CompletedWorkout)).to eq(workouts - moved)
    expect((rows(CompletedWorkout) + archive_rows).sort_by { |r| r["id"] }).to eq(workouts)
    expect(summary["completed_workouts"]).to have_attributes(archived: moved.size, deleted: moved.size,
                                                             created_archive_table: true)

    cleared = measurements.select { |r| expired?(r, 1.year, now) }
    expected = measurements.map do |r|
      cleared.include?(r) ? r.merge("weight_kg" => nil, "body_fat_pct" => nil) : r
    end
    expect(rows(BodyMeasurement).map { |r| r.except("updated_at") }).to eq(expected.map { |r| r.except("updated_at") })
    expect(summary["body_measurements"].anonymized).to eq(cleared.size)

    # Nothing left to do: a second run matches nothing.
    again = retention.run(connection: connection, dry_run: false, now: now, pause: 0)
    expect(again.tables.map(&:matched)).to eq([0, 0, 0])
  end

  it "anonymizes with a keyed hash that keeps values distinct, or NULL, once" do
    retention.define do
      table :users, keep: 1.year, action: :anonymize, timestamp_column: :deleted_at,
                    columns: { email: :hash, phone: :null, last_sign_in_ip: :null }
    end
    gone = Array.new(3) do |i|
      User.create!(email: "gone#{i}@example.com", name: "Gone", phone: "+1555000#{i}", last_sign_in_ip: "10.0.0.#{i}",
                   deleted_at: now - 2.years, created_at: now - 3.years)
    end
    recent = User.create!(email: "recent@example.com", phone: "+1555", deleted_at: now - 1.day,
                          created_at: now - 3.years)
    live = User.where(deleted_at: nil).order(:id).map(&:attributes)

    summary = retention.run(connection: connection, dry_run: false, now: now, pause: 0, hash_key: "test-key")
    expect(summary["users"]).to have_attributes(matched: 3, anonymized: 3, status: :done)
    gone.each_with_index do |user, i|
      expect(user.reload).to have_attributes(
        email: "vto:#{Digest::SHA256.hexdigest("test-key:gone#{i}@example.com")}", phone: nil, last_sign_in_ip: nil,
        name: "Gone"
      )
    end
    expect(recent.reload).to have_attributes(email: "recent@example.com", phone: "+1555")
    expect(User.where(deleted_at: nil).order(:id).map(&:attributes)).to eq(live)
    expect(retention.run(connection: connection, dry_run: false, now: now, pause: 0)["users"].matched).to eq(0)

    # Without hash_key:, the key comes from the app's secret_key_base.
    recent.update!(deleted_at: now - 2.years)
    retention.run(connection: connection, dry_run: false, now: now, pause: 0)
    key = retention.default_hash_key
    expect(key).to match(/\A\h{64}\z/)
    expect(recent.reload.email).to eq("vto:#{Digest::SHA256.hexdigest("#{key}:recent@example.com")}")
  ensure
    User.where(id: [*gone, recent].compact.map(&:id)).delete_all
  end

  it "keeps an audit of each batch with counts and key ranges, never row contents" do
    summary = retention.run(connection: connection, dry_run: false, now: now, pause: 0)
    audit = retention.runs(connection: connection)
    expect(audit.first).to include("run_id" => summary.run_id, "kind" => "run", "status" => "completed",
                                   "deleted" => summary.deleted, "archived" => summary.archived)
    batches = connection.select_all("SELECT * FROM vto_retention_runs WHERE kind = 'batch'").to_a
    expect(batches.size).to eq(summary.batches)
    by_table = batches.group_by { |b| b["table_name"] }
    expect(by_table["api_request_logs"].sum { |b| b["deleted"].to_i }).to eq(summary["api_request_logs"].deleted)
    expect(by_table["completed_workouts"].sum { |b| b["archived"].to_i }).to eq(summary["completed_workouts"].archived)
    ranges = by_table["api_request_logs"].map { |b| [b["key_from"].to_i, b["key_to"].to_i] }
    expect(ranges.each_cons(2).all? { |(_, a), (b, _)| b == a }).to be(true) # contiguous, never overlapping
    expect(connection.columns("vto_retention_runs").map(&:name)).to match_array(
      %w[id run_id kind status table_name action cutoff key_from key_to matched deleted archived anonymized lock_ms
         holder message started_at finished_at]
    )
  end

  it "stops at max_rows and at the kill switch, and the next run finishes the job" do
    define_policies(batch_size: 5)
    expected = rows(ApiRequestLog).count { |r| expired?(r, 90.days, now) && r["status"] && r["status"] != 500 }
    first = retention.run(connection: connection, dry_run: false, now: now, pause: 0, max_rows: 12,
                          tables: %w[api_request_logs])
    expect(first).to have_attributes(status: :stopped, reason: "max_rows (12) reached", deleted: 12)
    expect(first["api_request_logs"].status).to eq(:partial)

    # Another process flips the kill switch while this run is in its first table.
    second = retention.run(connection: connection, dry_run: false, now: now, pause: 0,
                           progress: ->(_) { retention.disable!(connection: connection, reason: "incident 42") })
    expect(second).to have_attributes(status: :stopped, reason: "kill switch: incident 42", deleted: 5)
    expect(second.tables.drop(1).map(&:status)).to all(eq(:skipped))
    expect(retention.runs(connection: connection).first).to include("status" => "stopped")
    expect(retention.run(connection: connection, dry_run: false, now: now).status).to eq(:stopped)

    retention.enable!(connection: connection)
    third = retention.run(connection: connection, dry_run: false, now: now, pause: 0)
    expect(third.status).to eq(:completed)
    expect(first.deleted + second["api_request_logs"].deleted + third["api_request_logs"].deleted).to eq(expected)
  end

  it "stops at max_runtime" do
    summary = retention.run(connection: connection, dry_run: false, now: now, pause: 0.5, max_runtime: 0.2)
    expect(summary).to have_attributes(status: :stopped, reason: "max_runtime (0.2 s) reached")
    expect(summary.batches).to eq(1)
  end

  it "lets one runner at a time delete: a second one finds the lock taken and does nothing" do
    expected = rows(ApiRequestLog).count { |r| expired?(r, 90.days, now) && r["status"] && r["status"] != 500 }
    other = nil
    # The second runner starts, on its own connection, while the first holds the lock.
    start_other = lambda do |_|
      other ||= Thread.new do
        ActiveRecord::Base.connection_pool.with_connection do |c|
          retention.run(connection: c, dry_run: false, now: now, pause: 0)
        end
      end.value
    end
    first = retention.run(connection: connection, dry_run: false, now: now, pause: 0, progress: start_other)
    expect(other).to have_attributes(status: :locked, deleted: 0)
    expect(other.reason).to match(/another run holds/)
    expect(first.status).to eq(:completed)
    expect(first["api_request_logs"].deleted).to eq(expected)
  end

  it "refuses to run inside a transaction, and bad options, with clear errors" do
    expect do
      ActiveRecord::Base.transaction { retention.run(connection: connection, dry_run: false) }
    end.to raise_error(ArgumentError, /must not run inside a transaction/)
    expect { retention.run(connection: connection, max_rows: -1) }.to raise_error(ArgumentError, /max_rows must be a positive/)
    expect { retention.run(connection: connection, tables: %w[nope]) }.to raise_error(ArgumentError, /no age-based retention policy for nope/)
    expect { retention.run(connection: connection, pause_for: 1) }.to raise_error(ArgumentError, /unknown option :pause_for/)
  end

  it "reports a table whose batch fails, leaves its rows in place, and runs the others" do
    # An archive table the rows cannot go into: a NOT NULL column they have no value for.
    columns = connection.columns("completed_workouts")
    connection.create_table(:completed_workouts_archive, id: false) do |t|
      columns.each { |c| t.column c.name, c.sql_type }
      t.string :note, null: false
    end
    workouts = rows(CompletedWorkout)
    summary = retention.run(connection: connection, dry_run: false, now: now, pause: 0)
    expect(summary.status).to eq(:failed)
    failed = summary["completed_workouts"]
    expect(failed.status).to eq(:failed)
    expect(failed.reason).to match(/\AActiveRecord::\w+: .*note/i)
    expect(rows(CompletedWorkout)).to eq(workouts)
    expect(archive_rows).to be_empty
    expect(summary["api_request_logs"].status).to eq(:done)
    expect(summary["body_measurements"].status).to eq(:done)
    expect(retention.runs(connection: connection).first).to include("status" => "failed")
  end

  it "runs from ActiveJob, a dry run unless told otherwise, and fails the job when a table fails" do
    expected = rows(ApiRequestLog).count { |r| expired?(r, 90.days, Time.now) && r["status"] && r["status"] != 500 }
    dry = VirtualTrainerOptimizer::RetentionJob.perform_now(tables: %w[api_request_logs])
    expect(dry).to include(dry_run: true, deleted: 0)
    expect(ApiRequestLog.count).to eq(rows(ApiRequestLog).size)

    VirtualTrainerOptimizer::RetentionJob.perform_later(dry_run: false, tables: %w[api_request_logs], pause: 0)
    expect(retention.runs(connection: connection).first).to include("status" => "completed", "deleted" => expected)

    expect { VirtualTrainerOptimizer::RetentionJob.perform_now(limit: 1) }.to raise_error(ArgumentError, /unknown option limit/)
    connection.create_table(:completed_workouts_archive, id: false) { |t| t.string :note, null: false }
    expect { VirtualTrainerOptimizer::RetentionJob.perform_now(dry_run: false) }.to raise_error(retention::RunFailed)
  end

  it "runs from rake: a dry run by default, DRY_RUN=0 to apply, JSON on request, and the kill switch" do
    out = run_rake("vto:retention:run", { "TABLES" => "api_request_logs" })
    expect(out).to match(/\Aretention dry run \S+: dry_run\n  api_request_logs \(delete, before \S+\): dry_run, matched \d+\n    DELETE FROM/)
    count = ApiRequestLog.count
    json = JSON.parse(run_rake("vto:retention:run", { "TABLES" => "api_request_logs", "DRY_RUN" => "0",
                                                      "FORMAT" => "json", "PAUSE" => "0" }))
    expect(json).to include("dry_run" => false, "status" => "completed")
    expect(ApiRequestLog.count).to eq(count - json["deleted"])
    expect(json["tables"].first.keys).to include("matched", "deleted", "batches", "longest_lock_ms", "sql")

    run_rake("vto:retention:disable", { "REASON" => "maintenance" })
    out = run_rake("vto:retention:run", { "DRY_RUN" => "0" })
    expect(out).to include("stopped (kill switch: maintenance)")
    run_rake("vto:retention:enable")
    expect(run_rake("vto:retention:run", { "DRY_RUN" => "0", "PAUSE" => "0" })).to include(": completed")
  end

  it "draws a progress bar per table" do
    io = StringIO.new
    bar = retention::ProgressBar.new(io)
    table = retention::TableSummary.new(table: "api_request_logs", action: :delete, cutoff: now)
    table.matched = 40
    table.deleted = 10
    bar.call(table)
    table.deleted = 40
    bar.call(table)
    bar.finish
    expect(io.string).to eq("\rapi_request_logs             [#######.......................] 10/40 rows (25%)" \
                            "\rapi_request_logs             [##############################] 40/40 rows (100%)\n")
  end

  it "loses nothing when the process is killed with SIGKILL mid-run, and the next run completes" do
    connection.execute("DELETE FROM completed_workouts WHERE id NOT IN (SELECT completed_workout_id FROM completed_exercises)")
    generate(now, logs: 0, workouts: 1500, measurements: 0)
    workouts = rows(CompletedWorkout)
    moved = workouts.select { |r| expired?(r, 2.years, now) && r["calories"].positive? }
    Dir.mktmpdir do |dir|
      policy = File.join(dir, "vto_retention.yml")
      File.write(policy, { "tables" => { "completed_workouts" => { "keep" => "2 years", "action" => "archive",
                                                                   "where" => "calories > 0", "batch_size" => 10 } } }.to_yaml)
      script = File.expand_path("../rails_app/script/retention_run.rb", __dir__)
      stdin, out, wait = Open3.popen2e(ENV.to_h, RbConfig.ruby, script, policy, (now + 1.day).iso8601)
      stdin.close
      seen = []
      seen << out.gets until seen.count { |l| l.to_s.start_with?("batch") } >= 5 || seen.last.nil? && seen.any?
      Process.kill(:KILL, wait.pid)
      status = wait.value
      out.close
      expect(status.termsig).to eq(9), "the run ended before the kill: #{seen.join}"
    end

    # Every row is in exactly one of the two tables, and the archive holds
    # what the committed batches say they moved.
    archived = archive_rows
    expect(archived.size).to be > 0
    expect((rows(CompletedWorkout) + archived).sort_by { |r| r["id"] }).to eq(workouts)
    expect(archived.map { |r| r["id"] }.uniq.size).to eq(archived.size)
    committed = connection.select_value("SELECT SUM(archived) FROM vto_retention_runs WHERE kind = 'batch'").to_i
    expect(committed).to eq(archived.size)
    dead = retention.runs(connection: connection).first
    expect(dead).to include("status" => "running")

    define_policies(batch_size: 50)
    summary = retention.run(connection: connection, dry_run: false, now: now + 1.day, pause: 0,
                            tables: %w[completed_workouts])
    expect(summary.status).to eq(:completed)
    expect(summary.interrupted_runs).to eq([dead["run_id"]])
    expect(retention.runs(connection: connection).map { |r| r["status"] }.first(2)).to eq(%w[completed interrupted])
    expect(archive_rows).to eq(workouts.select { |r| expired?(r, 2.years, now + 1.day) && r["calories"].positive? })
    expect(archive_rows.size).to be >= moved.size
    expect((rows(CompletedWorkout) + archive_rows).sort_by { |r| r["id"] }).to eq(workouts)
  end
end
