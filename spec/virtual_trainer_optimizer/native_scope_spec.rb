# frozen_string_literal: true

# VirtualTrainerOptimizer::Native::Scope and the native call-site capture, driven directly (no Rails,
# no database): this file is app code, as spec/ lies under the app root.
RSpec.describe VirtualTrainerOptimizer::Native::Scope do

  before(:all) do
    @app_root = VirtualTrainerOptimizer.config.app_root
    VirtualTrainerOptimizer.config.app_root = Dir.pwd
    VirtualTrainerOptimizer::CallSite.reset!
  end

  after(:all) do
    VirtualTrainerOptimizer.config.app_root = @app_root
    VirtualTrainerOptimizer::CallSite.reset!
  end
  # Classify RSpec's own frames before any GC.stress example: the classifier
  # is plain Ruby, and under GC.stress each of its allocations is a full GC.
  before { VirtualTrainerOptimizer::Native.app_frames }

  def new_scope(max_keys: 1000)
    VirtualTrainerOptimizer::Native::Scope.new(:postgresql, 2, 100.0, 2, nil, max_keys, 100)
  end

  def load_workouts(scope, user_id)
    scope.record('SELECT "workouts".* FROM "workouts" WHERE "workouts"."user_id" = $1', [user_id], 150) # loop-line
  end

  let(:loop_line) { "#{__FILE__.delete_prefix("#{Dir.pwd}/")}:#{File.readlines(__FILE__).index { |l| l.include?('# loop-line') } + 1}" }

  it "finds an N+1 from a loop, located at the innermost app frame with the outer ones as context" do
    scope = new_scope
    5.times { |id| load_workouts(scope, id) }
    findings = scope.finish(2.0)
    expect(findings.size).to eq(1)
    f = findings.first
    expect(f).to include("kind" => "n_plus_one", "count" => 5, "priority" => "medium",
                         "sql" => 'SELECT "workouts".* FROM "workouts" WHERE "workouts"."user_id" = ?')
    path, line, label = f["frames"].first
    expect("#{path.delete_prefix("#{Dir.pwd}/")}:#{line}").to eq(loop_line)
    expect(label).to include("load_workouts")
    expect(f["frames"].size).to be > 1
    expect(scope.shape(f["fingerprint"])["predicates"])
      .to eq([{ "table" => "workouts", "column" => "user_id", "op" => "eq", "clause" => "where" }])
    expect(scope.shape("0000000000000000")).to be_nil
    expect(scope.shape("not hex")).to be_nil
  end

  it "keeps the frames alive and in place until the scope is reported (GC, compaction)", :native do
    scope = new_scope
    3.times { |id| load_workouts(scope, id) }
    GC.start
    GC.compact if GC.respond_to?(:compact)
    GC.start
    path, line, = scope.finish(1.0).first["frames"].first
    expect("#{path.delete_prefix("#{Dir.pwd}/")}:#{line}").to eq(loop_line)
  end

  it "tells the call sites of one helper apart" do
    scope = new_scope
    3.times { |id| load_workouts(scope, id) }
    3.times { |id| load_workouts(scope, id + 10) }
    expect(scope.finish(1.0).map { |f| f["kind"] }).to eq(%w[n_plus_one n_plus_one])
  end

  it "counts the very same statement as a duplicate, not an N+1; binds decide" do
    scope = new_scope
    3.times { load_workouts(scope, 7) }
    expect(scope.finish(1.0).map { |f| [f["kind"], f["count"]] }).to eq([["duplicate_query", 3]])
  end

  it "skips transaction control, EXPLAIN and DDL by their leading keyword" do
    scope = new_scope
    ["BEGIN", "COMMIT", "SAVEPOINT active_record_1", "EXPLAIN SELECT 1", "CREATE INDEX i ON t (a)",
     "/* tag */ ROLLBACK"].each do |sql|
      expect(scope.record(sql, nil, 10)).to be(false)
    end
    expect(scope.skipped).to eq(6)
    expect(scope.queries).to eq(0)
  end

  it "stays bounded: keys past max_keys are counted, not kept" do
    scope = new_scope(max_keys: 20)
    sqls = Array.new(120) { |i| "SELECT * FROM t#{i} WHERE a = 1" }
    sqls.each { |sql| scope.record(sql, nil, 1) }
    expect(scope.queries).to eq(120)
    expect(scope.dropped).to eq(100)
    expect(scope.finish(1.0)).to eq([])
  end

  it "hashes any bind value", :native do
    scope = new_scope
    binds = [[1, "a", nil, true, 1.5, :sym, Object.new], [2, "b", nil, false, 2.5, :other, [1, 2]]]
    binds.each { |b| scope.record("SELECT * FROM t WHERE a = $1", b, 1) }
    expect(scope.queries).to eq(2)
  end

  it "raises the classifier's error from record (the subscriber rescues it)" do
    VirtualTrainerOptimizer::Native.frame_classifier = ->(_path, _label) { raise ArgumentError, "boom" }
    expect { new_scope.record("SELECT 1", nil, 1) }.to raise_error(ArgumentError, "boom")
  ensure
    VirtualTrainerOptimizer::CallSite.reset!
  end

  it "rejects bad arguments and a second finish" do
    expect { VirtualTrainerOptimizer::Native::Scope.new(:oracle, 2, 1.0, 2, nil, 10, 10) }.to raise_error(ArgumentError, /oracle/)
    expect { VirtualTrainerOptimizer::Native::Scope.new(:sqlite, 1, 1.0, 2, nil, 10, 10) }.to raise_error(ArgumentError, /at least 2/)
    scope = new_scope
    scope.finish(1.0)
    expect { scope.finish(1.0) }.to raise_error(RuntimeError, /already finished/)
    expect(scope.record("SELECT 1", nil, 1)).to be(false)
    expect { VirtualTrainerOptimizer::Native::Scope.allocate }.to raise_error(TypeError)
  end

  it "reports a scope over its budget, with the budget set late" do
    scope = new_scope
    scope.budget_ms = 5.0
    expect(scope.finish(12.0).map { |f| f["kind"] }).to eq(["slow_scope"])
  end

  it "lists the app frames of the caller's stack" do
    frames = VirtualTrainerOptimizer::Native.app_frames
    expect(frames.first[0]).to eq(__FILE__)
    expect(frames.first[1]).to eq(__LINE__ - 2)
  end

  describe VirtualTrainerOptimizer::Native::Subscriber do
    let(:subscriber) { described_class.new }
    let(:key) { VirtualTrainerOptimizer::Scope::NATIVE }

    def event(payload, scope)
      Thread.current[key] = scope
      subscriber.call("sql.active_record", 1.0, 1.002, "id", payload)
    ensure
      Thread.current[key] = nil
    end

    it "records into the fiber's current scope, skipping what is not the app's query", :native do
      scope = new_scope
      sql = 'SELECT "users".* FROM "users" WHERE "users"."id" = ?'
      event({ sql: sql, name: "User Load", binds: [1] }, scope)
      event({ sql: sql, name: "CACHE", binds: [1] }, scope)
      event({ sql: sql, name: "User Load", binds: [1], cached: true }, scope)
      event({ sql: "PRAGMA table_info(users)", name: "SCHEMA" }, scope)
      event({ name: "no sql" }, scope)
      event({ sql: sql, name: "User Load", binds: [1] }, nil)
      expect(scope.queries).to eq(1)
      expect(scope.db_us).to eq(2000)
    end

    it "never raises: a bad payload or scope is an internal error, counted" do
      logger = VirtualTrainerOptimizer.config.logger
      VirtualTrainerOptimizer.config.logger = false
      before = VirtualTrainerOptimizer.internal_errors
      expect(event("not a hash", new_scope)).to be_nil
      expect(event({ sql: "SELECT 1" }, Object.new)).to be_nil
      expect(VirtualTrainerOptimizer.internal_errors - before).to eq(2)
    ensure
      VirtualTrainerOptimizer.config.logger = logger
    end
  end
end
