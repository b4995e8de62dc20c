# frozen_string_literal: true

require_relative "rails_helper"

RSpec.describe "Units of work: jobs, scans, threads, fork, failures (#{VirtualTrainer::DB})" do
  let!(:user) { User.order(:id).first }

  describe "ActiveJob" do
    it "scopes each perform and reports the job's N+1 with its location" do
      found = collect_findings { CustomHealthProgramJob.perform_now(user.id) }
      expect(found.map(&:kind)).to eq([:n_plus_one])
      f = found.first
      expect(f.scope_kind).to eq(:job)
      expect(f.scope_name).to eq("CustomHealthProgramJob")
      expect(f.location).to eq(marker("job"))
      expect(f.suggestion).to start_with("Workout.includes(:exercise_groups)")
    end

    it "scopes jobs run through the queue adapter too" do
      found = collect_findings { CustomHealthProgramJob.perform_later(user.id) }
      expect(found.map(&:scope_name)).to eq(["CustomHealthProgramJob"])
    end

    it "reports a job over its budget" do
      found = with_config(budgets: { "CustomHealthProgramJob" => 0.001 }) do
        collect_findings { CustomHealthProgramJob.perform_now(user.id) }
      end
      expect(found.map(&:kind)).to include(:slow_job)
    end
  end

  describe "sampling" do
    it "runs an explicit scan even where detection is off for requests and jobs" do
      with_config(enabled: false) do
        expect(collect_findings { get "/api/users" }).to be_empty
        expect(VirtualTrainerOptimizer.scan { UserReport.workout_titles }.findings.size).to eq(1)
      end
    end

    it "watches requests and jobs at sample_rate, and scans always" do
      with_config(sample_rate: 0.0) do
        expect(collect_findings { get "/api/users" }).to be_empty
        expect(collect_findings { CustomHealthProgramJob.perform_now(user.id) }).to be_empty
        expect(VirtualTrainerOptimizer.scan { UserReport.workout_titles }.findings.size).to eq(1)
      end
    end
  end

  describe "VirtualTrainerOptimizer.scan" do
    it "returns the block's findings and totals" do
      result = VirtualTrainerOptimizer.scan { UserReport.workout_titles }
      expect(result.findings.map(&:kind)).to eq([:n_plus_one])
      expect(result.findings.first.location).to eq(marker("report-workouts"))
      expect(result.queries).to eq(User.count + 1)
      expect(result.db_ms).to be > 0
      expect(result.elapsed_ms).to be >= result.db_ms
      expect(result.totals.map { |fp, count, ms, sql| [fp.size, count, ms.positive?, sql[/FROM "?\w+"?/]] })
        .to contain_exactly([16, 1, true, 'FROM "users"'], [16, User.count, true, 'FROM "workouts"'])
    end

    it "includes the per-fingerprint totals of a request nested in a scan" do
      result = VirtualTrainerOptimizer.scan { get "/api/users" }
      workouts = result.totals.find { |_, _, _, sql| sql.include?('FROM "workouts"') }
      expect(workouts[1]).to eq(User.count)
    end

    it "reports duplicates outside the query cache" do
      team_id = Team.order(:id).pick(:id)
      result = VirtualTrainerOptimizer.scan { 3.times { Team.find(team_id) } }
      expect(result.findings.map { |f| [f.kind, f.count] }).to eq([[:duplicate_query, 3]])
    end

    it "nests: the inner unit reports its findings once, and the outer result includes them" do
      inner = nil
      reported = collect_findings do
        outer = VirtualTrainerOptimizer.scan("outer") do
          User.first
          inner = VirtualTrainerOptimizer.scan("inner") { UserReport.diet_names }
        end
        expect(inner.findings.map(&:location)).to eq([marker("report-diets")])
        expect(outer.findings).to eq(inner.findings)
        expect(outer.queries).to eq(1 + inner.queries)
      end
      expect(reported.map(&:scope_name)).to eq(["inner"])
    end

    it "includes a request's findings in the scan around it, and raises for them when asked" do
      result = VirtualTrainerOptimizer.scan("around a request") { get "/api/users" }
      expect(result.findings.map { |f| [f.kind, f.scope_name, f.location] })
        .to eq([[:n_plus_one, "Api::UsersController#index", marker("has-many")]])
      expect { VirtualTrainerOptimizer.scan(raise_on: [:n_plus_one]) { get "/api/users" } }
        .to raise_error(VirtualTrainerOptimizer::NPlusOneError)
    end

    it "records nothing inside pause" do
      result = VirtualTrainerOptimizer.scan do
        VirtualTrainerOptimizer.pause { UserReport.workout_titles }
      end
      expect(result.queries).to eq(0)
      expect(result.findings).to be_empty
    end

    it "raises the finding's error class at the end when asked, with the findings in the message" do
      expect { VirtualTrainerOptimizer.scan(raise_on: [:n_plus_one]) { UserReport.workout_titles } }
        .to raise_error(VirtualTrainerOptimizer::NPlusOneError, /N\+1 query: #{User.count} similar queries.*User.includes\(:workouts\)/m) { |e|
          expect(e.findings.map(&:location)).to eq([marker("report-workouts")])
        }
    end

    it "raises in a request when raise_on is configured (tests)" do
      with_config(raise_on: [:n_plus_one]) do
        expect { get "/api/users" }.to raise_error(VirtualTrainerOptimizer::NPlusOneError)
      end
      # The dropped response's body was closed: Rails' executor finished the
      # request (its query cache is off again).
      expect(ActiveRecord::Base.connection.query_cache_enabled).to be(false)
    end

    it "ignores schema, EXPLAIN, transaction and cached queries" do
      result = VirtualTrainerOptimizer.scan do
        ActiveRecord::Base.transaction { User.first }
        ActiveRecord::Base.connection.columns("users")
        User.where(id: 1).explain
        ActiveRecord::Base.cache { 3.times { User.find(user.id) } }
      end
      expect(result.queries).to eq(3) # User.first, the EXPLAINed query, and the one uncached find
      expect(result.findings).to be_empty
    end
  end

  describe "notifications" do
    it "publishes ActiveSupport::Notifications events of its own" do
      events = []
      sub = ActiveSupport::Notifications.subscribe(/\.virtual_trainer_optimizer\z/) do |name, *, payload|
        events << [name, payload[:finding].kind]
      end
      VirtualTrainerOptimizer.scan { UserReport.workout_titles }
      ActiveSupport::Notifications.unsubscribe(sub)
      expect(events).to eq([["n_plus_one.virtual_trainer_optimizer", :n_plus_one]])
    end

    it "appends findings and units of work to the JSON-lines file, without literal values" do
      path = VirtualTrainerOptimizer.config.jsonl_path
      VirtualTrainerOptimizer::JsonlSink.flush
      before = File.exist?(path) ? File.size(path) : 0
      get "/api/users"
      VirtualTrainerOptimizer::JsonlSink.flush
      # A byte offset: earlier lines may hold multibyte text (a reason's "×").
      lines = File.binread(path).byteslice(before..).force_encoding(Encoding::UTF_8).lines.map { |l| JSON.parse(l) }
      finding = lines.find { |l| l["type"] == "finding" }
      unit = lines.find { |l| l["type"] == "unit" }
      expect(finding).to include("v" => 1, "kind" => "n_plus_one", "location" => marker("has-many"),
                                 "scope_name" => "Api::UsersController#index")
      expect(unit).to include("kind" => "request", "name" => "Api::UsersController#index", "count" => 1,
                              "queries" => User.count + 1)
      expect(unit["fingerprints"].map { |fp| fp["count"] }.sum).to eq(User.count + 1)
      expect(unit["fingerprints"].map { |fp| fp["sql"] }).to all(satisfy { |sql| !sql.match?(/= \d/) })
    end
  end

  describe "isolation" do
    it "keeps concurrent threads' scopes apart" do
      results = Queue.new
      threads = 8.times.map do |i|
        Thread.new do
          ActiveRecord::Base.connection_pool.with_connection do
            loops = i.even? ? [:workout_titles] : %i[diet_names workout_titles]
            result = VirtualTrainerOptimizer.scan { 5.times { loops.each { |m| UserReport.public_send(m) } } }
            results << [i, result]
          end
        end
      end
      threads.each(&:join)
      all = Array.new(results.size) { results.pop }
      expect(all.size).to eq(8)
      all.each do |i, result|
        want = i.even? ? [marker("report-workouts")] : [marker("report-diets"), marker("report-workouts")]
        expect(result.findings.select { |f| f.kind == :n_plus_one }.map(&:location).sort).to eq(want.sort)
        expect(result.queries).to eq(5 * want.size * (User.count + 1))
      end
    end

    it "leaves the parent's unit to the parent when a child forked without a block goes on inside it" do
      reader, writer = IO.pipe
      found = []
      pid = nil
      outer = with_config(on_finding: ->(f) { found << f }) do
        VirtualTrainerOptimizer.scan do
          UserReport.diet_names
          if (pid = fork)
            writer.close
            Process.wait(pid)
          else
            reader.close
            ActiveRecord::Base.establish_connection
            writer.write(JSON.generate(reported: found.size)) # on_finding runs in the child too, if at all
          end
        end.tap do
          next unless pid.nil?

          writer.write(JSON.generate(after: found.size))
          writer.close
          exit!(0)
        end
      end
      ActiveRecord::Base.establish_connection if VirtualTrainer::DB == "postgresql"
      child = reader.read
      expect(child).to eq('{"reported":0}{"after":0}')
      expect(outer.findings.map(&:location)).to eq([marker("report-diets")])
      expect(found.size).to eq(1)
    end

    it "keeps fibers apart: a fiber's queries belong to its own units" do
      inner = nil
      outer = VirtualTrainerOptimizer.scan do
        Fiber.new do
          inner = VirtualTrainerOptimizer.scan { UserReport.diet_names }
          UserReport.workout_titles # no unit open in this fiber
        end.resume
      end
      expect(inner.findings.map(&:location)).to eq([marker("report-diets")])
      expect(outer.queries).to eq(0)
      expect(outer.findings).to be_empty
    end

    it "starts a forked child clean, and the parent's scope goes on" do
      reader, writer = IO.pipe
      outer = VirtualTrainerOptimizer.scan do
        User.first
        pid = fork do
          reader.close
          ActiveRecord::Base.establish_connection # a child never shares the parent's socket
          open_scope = VirtualTrainerOptimizer::Scope.current
          child = VirtualTrainerOptimizer.scan { UserReport.workout_titles }
          writer.write(JSON.generate(open_scope: !open_scope.nil?, findings: child.findings.size,
                                     queries: child.queries))
          writer.close
          exit!(0)
        end
        writer.close
        Process.wait(pid)
        User.last
      end
      ActiveRecord::Base.establish_connection if VirtualTrainer::DB == "postgresql"
      child = JSON.parse(reader.read)
      # A new connection may run a version query of its own: at least the loop's.
      expect(child).to include("open_scope" => false, "findings" => 1)
      expect(child["queries"]).to be >= User.count + 1
      expect(outer.queries).to eq(2)
    end
  end

  describe "fail-open" do
    it "never lets an internal error reach the app's query, and logs it once" do
      io = StringIO.new
      before = VirtualTrainerOptimizer.internal_errors
      with_config(logger: Logger.new(io)) do
        VirtualTrainerOptimizer::Native.frame_classifier = ->(_path, _label) { raise "classifier exploded" }
        result = VirtualTrainerOptimizer.scan { 3.times { expect(User.order(:id).first).to eq(user) } }
        expect(result.queries).to eq(0)
      ensure
        VirtualTrainerOptimizer::CallSite.reset!
      end
      expect(VirtualTrainerOptimizer.internal_errors - before).to eq(3)
      expect(io.string.scan("classifier exploded").size).to be <= 1
    end

    it "keeps going when a notifier fails" do
      with_config(on_finding: ->(_f) { raise "callback exploded" }) do
        get "/api/users"
        expect(last_response.status).to eq(200)
      end
    end
  end
end
