# frozen_string_literal: true

require_relative "rails_helper"

RSpec.describe "N+1 detection in requests (#{VirtualTrainer::DB})" do
  def n_plus_ones(found)
    found.select { |f| f.kind == :n_plus_one }
  end

  def get_findings(path, **params)
    collect_findings do
      get(path, params)
      expect(last_response.status).to eq(200), last_response.body[0, 500]
    end
  end

  it "reports a has_many loop with its call site and the includes fix" do
    found = n_plus_ones(get_findings("/api/users"))
    expect(found.size).to eq(1)
    f = found.first
    expect(f.count).to eq(User.count)
    expect(f.location).to eq(marker("has-many"))
    expect(f.sql).to eq(VirtualTrainerOptimizer::SQL.normalize(f.sql, dialect: VirtualTrainerOptimizer.dialect))
    expect(f.sql).to match(/FROM "?workouts"? WHERE "?workouts"?\."?user_id"? = \?/)
    expect(f.suggestion).to start_with("User.includes(:workouts)")
    expect(f.scope_kind).to eq(:request)
    expect(f.scope_name).to eq("Api::UsersController#index")
    expect(f.fingerprint).to match(/\A\h{16}\z/)
    expect(f.priority).to be_a(Symbol)
    expect(f.context).to all(start_with("app/"))
  end

  it "reports nothing once the association is preloaded" do
    expect(get_findings("/api/users", fixed: 1)).to be_empty
  end

  it "never flags the preloader's own queries" do
    expect(get_findings("/api/users/preloaded")).to be_empty
  end

  it "reports a belongs_to loop" do
    f = n_plus_ones(get_findings("/api/workouts")).first
    expect(f.location).to eq(marker("belongs-to"))
    expect(f.suggestion).to start_with("Workout.includes(:user)")
    # Each user once: the request's query cache answers the repeats, which
    # are not counted (cached: true).
    expect(f.count).to eq(User.count)
  end

  it "reports a has_one loop" do
    f = n_plus_ones(get_findings("/api/users/profiles")).first
    expect(f.location).to eq(marker("has-one"))
    expect(f.suggestion).to start_with("User.includes(:profile)")
  end

  it "reports a has_many :through loop, naming the through association" do
    f = n_plus_ones(get_findings("/api/workouts/exercises")).first
    expect(f.location).to eq(marker("through"))
    expect(f.suggestion).to start_with("Workout.includes(:exercises)")
    expect(f.table).to eq("exercise_groups")
    expect(f.column).to eq("workout_id")
  end

  it "reports a polymorphic belongs_to loop" do
    f = n_plus_ones(get_findings("/api/comments")).first
    expect(f.location).to eq(marker("polymorphic"))
    expect(f.suggestion).to start_with("Comment.includes(:commentable)")
  end

  it "reports an N+1 nested inside an includes, with the nested includes" do
    found = n_plus_ones(get_findings("/api/teams/nested"))
    expect(found.size).to eq(1)
    f = found.first
    expect(f.location).to eq(marker("nested"))
    expect(f.suggestion).to include("User.includes(:diets)")
    expect(f.suggestion).to include("Team.includes(users: :diets)")
    expect(f.suggestion).to include("diets.user_id has no index: add_index :diets, :user_id")
  end

  it "suggests a counter cache for COUNT in a loop, and the missing index" do
    f = n_plus_ones(get_findings("/api/users/counts")).first
    expect(f.location).to eq(marker("count"))
    expect(f.suggestion).to include("belongs_to :user, counter_cache: true")
    expect(f.suggestion).to include("add_column :users, :completed_workouts_count")
    expect(f.suggestion).to include("add_index :completed_workouts, :user_id")
  end

  it "suggests any? on a preloaded association for exists? in a loop" do
    f = n_plus_ones(get_findings("/api/users/exists")).first
    expect(f.location).to eq(marker("exists"))
    expect(f.suggestion).to include("User.includes(:diets)")
    expect(f.suggestion).to include("any?")
  end

  it "reports find in a loop at the innermost app frame, once per call site of the helper" do
    found = n_plus_ones(get_findings("/api/workouts/lookup"))
    expect(found.size).to eq(2)
    expect(found.map(&:location).uniq).to eq([marker("find")])
    expect(found.map { |f| f.context.first }).to contain_exactly(
      a_string_starting_with(marker("lookup-a")), a_string_starting_with(marker("lookup-b"))
    )
    expect(found.first.suggestion).to include("Workout.where(id: ids).index_by(&:id)")
  end

  it "does not flag find_each / in_batches, nor one query from each of two call sites" do
    expect(get_findings("/api/users/batches")).to be_empty
    expect(get_findings("/api/users/two_sites")).to be_empty
  end

  it "flags an N+1 inside the block of find_each, or over the records of an in_batches batch" do
    found = n_plus_ones(get_findings("/api/users/batches_per_record"))
    expect(found.map(&:location)).to contain_exactly(marker("find-each"), marker("in-batches"))
  end

  it "reports writes in a loop as a bulk write, not an N+1" do
    found = collect_findings { post "/api/completed_workouts/import", count: 4 }
    expect(found.map(&:kind)).to eq([:bulk_write])
    expect(found.first.location).to eq(marker("bulk-write"))
    expect(found.first.suggestion).to include("CompletedWorkout.insert_all")
  ensure
    CompletedWorkout.where("calories >= 100 AND calories < 200").delete_all
  end

  it "reports the very same query repeated as a duplicate" do
    found = get_findings("/api/teams/duplicate")
    expect(found.map(&:kind)).to eq([:duplicate_query])
    expect(found.first.count).to eq(3)
    expect(found.first.location).to eq(marker("duplicate"))
  end

  it "reports an HTML request's N+1 too" do
    f = n_plus_ones(get_findings("/teams")).first
    expect(f.location).to eq(marker("teams-html"))
    expect(f.scope_name).to eq("TeamsController#index")
  end

  it "reports a request over its controller's budget with DB and total time" do
    found = with_config(budgets: { "Api::TeamsController#slow" => 1 }) { get_findings("/api/teams/slow") }
    f = found.find { |x| x.kind == :slow_request }
    expect(f).not_to be_nil
    expect(f.scope_name).to eq("Api::TeamsController#slow")
    expect(f.elapsed_ms).to be >= 20
    expect(f.message).to include("budget 1 ms")
    expect(f.suggestion).to include("Ruby outside the database")
  end

  it "gives API requests the API budget and pages the page budget" do
    budgets = []
    sub = ActiveSupport::Notifications.subscribe("process_action.action_controller") do |*|
      budgets << VirtualTrainerOptimizer::Scope.current&.budget_ms
    end
    get "/api/users/two_sites"
    get "/teams"
    ActiveSupport::Notifications.unsubscribe(sub)
    expect(budgets).to eq([200, 1000])
  end

  it "reports slow queries over slow_query_ms" do
    found = with_config(slow_query_ms: 0.0001) { get_findings("/api/users/two_sites") }
    slow = found.select { |f| f.kind == :slow_query }
    expect(slow.size).to eq(3)
    expect(slow.map(&:sql)).to all(include("?").or(include("FROM")))
  end

  it "honours the allowlist by location, fingerprint and SQL" do
    first = n_plus_ones(get_findings("/api/users")).first
    [{ location: "app/controllers/api/users_controller.rb" }, { fingerprint: first.fingerprint },
     { sql: /workouts/ }].each do |entry|
      saved = VirtualTrainerOptimizer.config.allowlist
      VirtualTrainerOptimizer.config.allow(**entry)
      expect(get_findings("/api/users")).to be_empty, entry.inspect
    ensure
      VirtualTrainerOptimizer.config.allowlist = saved
    end
  end

  it "never puts literal values in any output" do
    user = User.order(:id).first
    io = StringIO.new
    found = with_config(logger: Logger.new(io)) { get_findings("/api/users") }
    VirtualTrainerOptimizer::JsonlSink.flush
    text = found.map { |f| f.to_h.to_s }.join + io.string + File.read(VirtualTrainerOptimizer.config.jsonl_path)
    expect(text).not_to include(user.email)
    expect(text).not_to match(/user_id" = #{user.id}\b/)
    expect(io.string).to include("[virtual_trainer_optimizer] N+1 query").and include(marker("has-many"))
  end
end
