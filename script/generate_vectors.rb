# frozen_string_literal: true

# Generates the cross-language SQL test vectors tests/vectors/rails_{sqlite,postgresql,mysql}.json
# from REAL ActiveRecord: a Virtual Trainer schema is created on each database, seeded, and a
# list of named operations runs twice (different literal values and IN-list lengths). Every
# SQL statement ActiveRecord sends (sql.active_record, minus SCHEMA, cached and transaction
# control statements) is recorded, with its normalized form, fingerprint and SQL.analyze shape,
# under its group "<adapter>/<operation>:<n>", where n is the
# statement's index within the operation run, so both runs of an operation produce the same
# groups. PostgreSQL runs every operation a second time on a fresh database with
# prepared_statements: false, into the same groups, so binds ($1) and literals meet.
#
#   ruby -Ilib script/generate_vectors.rb        (or: rake vectors:generate)
#
# Environment (defaults in brackets):
#   VTO_PG_HOST [127.0.0.1]  VTO_PG_PORT [5432]  VTO_PG_USER [postgres]  VTO_PG_PASSWORD [none]
#   VTO_MYSQL_HOST [127.0.0.1]  VTO_MYSQL_PORT [3306]  VTO_MYSQL_USER [root]  VTO_MYSQL_PASSWORD [empty]
#   VTO_VECTORS_DATABASE [vto_vectors]  database dropped and re-created on PostgreSQL and MySQL
#   VTO_VECTORS_ADAPTERS [sqlite,postgresql,mysql]  which adapters to run (files of the others are kept)
#   VTO_VECTORS_STRICT   when set, exit 2 if the grouping check finds an anomaly
#
# The operations live in script/vectors/operations.rb.
#
# Exits 1 with a message naming the database and the variables to set when one is unreachable.
# The grouping check prints every group whose runs disagree on the fingerprint, every operation
# whose runs sent a different number of statements, and every fingerprint shared by two groups.

require "logger"
require "active_record"
require "active_support/testing/time_helpers"
require "json"
require "virtual_trainer_optimizer"

module VectorGen
  ROOT = File.expand_path("..", __dir__)
  OUT_DIR = File.join(ROOT, "tests", "vectors")
  DATABASE = ENV.fetch("VTO_VECTORS_DATABASE", "vto_vectors")
  T0 = Time.utc(2024, 3, 1, 12, 0, 0) # the frozen "now" of every run
  ADAPTERS = %i[sqlite postgresql mysql].freeze

  PG_CONFIG = {
    adapter: "postgresql",
    host: ENV.fetch("VTO_PG_HOST", "127.0.0.1"),
    port: Integer(ENV.fetch("VTO_PG_PORT", "5432")),
    username: ENV.fetch("VTO_PG_USER", "postgres"),
    password: ENV["VTO_PG_PASSWORD"],
    min_messages: "warning"
  }.compact.freeze

  MYSQL_CONFIG = {
    adapter: "mysql2",
    host: ENV.fetch("VTO_MYSQL_HOST", "127.0.0.1"),
    port: Integer(ENV.fetch("VTO_MYSQL_PORT", "3306")),
    username: ENV.fetch("VTO_MYSQL_USER", "root"),
    password: ENV.fetch("VTO_MYSQL_PASSWORD", ""),
    encoding: "utf8mb4"
  }.freeze

  # One pass = one fresh database on which every operation runs twice.
  Pass = Struct.new(:adapter, :label, :config, keyword_init: true)

  def self.passes(adapter)
    case adapter
    when :sqlite
      [Pass.new(adapter: :sqlite, label: nil, config: { adapter: "sqlite3", database: ":memory:" })]
    when :postgresql
      [Pass.new(adapter: :postgresql, label: nil, config: PG_CONFIG.merge(database: DATABASE)),
       Pass.new(adapter: :postgresql, label: "prepared_statements=false",
                config: PG_CONFIG.merge(database: DATABASE, prepared_statements: false))]
    when :mysql
      [Pass.new(adapter: :mysql, label: nil, config: MYSQL_CONFIG.merge(database: DATABASE))]
    end
  end

  # ---------------------------------------------------------------------------------------
  # Databases

  def self.unreachable!(what, config, error, vars)
    warn "generate_vectors: cannot reach #{what} at #{config[:host]}:#{config[:port]} " \
         "as #{config[:username].inspect}: #{error.class}: #{error.message.lines.first&.strip}"
    warn "generate_vectors: start it, or point the script at it with #{vars}"
    exit 1
  end

  def self.check_reachable(adapter)
    case adapter
    when :postgresql
      ActiveRecord::Base.establish_connection(PG_CONFIG.merge(database: "postgres"))
      ActiveRecord::Base.connection.select_value("SELECT 1")
    when :mysql
      ActiveRecord::Base.establish_connection(MYSQL_CONFIG)
      ActiveRecord::Base.connection.select_value("SELECT 1")
    end
  rescue StandardError => e
    config = adapter == :postgresql ? PG_CONFIG : MYSQL_CONFIG
    vars = adapter == :postgresql ? "VTO_PG_HOST/VTO_PG_PORT/VTO_PG_USER/VTO_PG_PASSWORD" : "VTO_MYSQL_HOST/VTO_MYSQL_PORT/VTO_MYSQL_USER/VTO_MYSQL_PASSWORD"
    unreachable!(adapter == :postgresql ? "PostgreSQL" : "MySQL/MariaDB", config, e, vars)
  ensure
    ActiveRecord::Base.remove_connection
  end

  def self.connect(pass)
    case pass.adapter
    when :postgresql
      ActiveRecord::Base.establish_connection(PG_CONFIG.merge(database: "postgres"))
      ActiveRecord::Base.connection.drop_database(DATABASE)
      ActiveRecord::Base.connection.create_database(DATABASE, encoding: "utf8")
      ActiveRecord::Base.remove_connection
    when :mysql
      ActiveRecord::Base.establish_connection(MYSQL_CONFIG)
      ActiveRecord::Base.connection.drop_database(DATABASE)
      ActiveRecord::Base.connection.create_database(DATABASE, charset: "utf8mb4", collation: "utf8mb4_unicode_ci")
      ActiveRecord::Base.remove_connection
    end
    ActiveRecord::Base.establish_connection(pass.config)
    ActiveRecord::Base.connection.select_value("SELECT 1")
  end

  # ---------------------------------------------------------------------------------------
  # Schema and models (Virtual Trainer)

  def self.define_schema(adapter)
    ActiveRecord::Migration.verbose = false
    ActiveRecord::Schema.define do
      create_table :users, force: true do |t|
        t.string :email, null: false
        t.string :name
        t.date :birth_date
        t.decimal :weight_kg, precision: 5, scale: 2
        t.datetime :deleted_at
        t.timestamps
      end
      add_index :users, :email, unique: true

      create_table :teams, force: true do |t|
        t.string :name, null: false
        t.timestamps
      end
      add_index :teams, :name, unique: true

      create_table :team_memberships, force: true do |t|
        t.references :user, null: false
        t.references :team, null: false
        t.string :role, null: false, default: "member"
        t.timestamps
      end
      add_index :team_memberships, %i[user_id team_id], unique: true, name: "index_team_memberships_on_user_and_team"

      create_table :workouts, force: true do |t|
        t.string :name, null: false
        t.string :difficulty
        t.integer :duration_minutes
        t.timestamps
      end

      create_table :exercise_groups, force: true do |t|
        t.references :workout, null: false
        t.string :name
        t.integer :position
        t.timestamps
      end

      create_table :exercises, force: true do |t|
        t.references :exercise_group, null: false
        t.string :name
        t.integer :sets
        t.integer :reps
        t.timestamps
      end

      create_table :completed_workouts, force: true do |t|
        t.references :user, null: false, index: false
        t.references :workout, null: false
        t.integer :calories
        t.integer :duration
        t.datetime :completed_at
        t.timestamps
      end
      add_index :completed_workouts, %i[user_id completed_at]

      create_table :completed_exercises, force: true do |t|
        t.references :completed_workout, null: false
        t.references :exercise, null: false
        t.integer :reps
        t.decimal :weight, precision: 6, scale: 2
        t.timestamps
      end

      create_table :diets, force: true do |t|
        t.references :user, null: false
        t.string :name
        t.integer :calories
        t.timestamps
      end

      create_table :comments, force: true do |t|
        t.references :commentable, polymorphic: true, null: false
        t.references :user
        t.text :body
        t.timestamps
      end

      create_table :notifications, force: true do |t|
        t.references :user, null: false
        t.string :kind
        t.text :payload
        t.binary :payload_digest
        t.boolean :push, null: false, default: false
        t.datetime :read_at
        t.timestamps
      end

      create_table :workout_plans, force: true do |t|
        t.references :user, null: false
        if adapter == :postgresql
          t.jsonb :settings, null: false, default: {}
          t.integer :tag_ids, array: true, null: false, default: []
        else
          t.text :settings
        end
        t.timestamps
      end
      add_index :workout_plans, :settings, using: :gin if adapter == :postgresql
    end
  end

  class ApplicationRecord < ActiveRecord::Base
    self.abstract_class = true
    self.store_full_class_name = false # polymorphic types "Workout", not "VectorGen::Workout"
  end

  class User < ApplicationRecord
    has_many :team_memberships, dependent: :destroy
    has_many :teams, through: :team_memberships
    has_many :completed_workouts, dependent: :destroy
    has_many :workouts, through: :completed_workouts
    has_many :completed_exercises, through: :completed_workouts
    has_many :diets, dependent: :destroy
    has_one :current_diet, -> { order(created_at: :desc) }, class_name: "VectorGen::Diet"
    has_many :notifications, dependent: :delete_all
    has_many :comments, dependent: :nullify
    has_one :workout_plan, dependent: :delete

    validates :email, presence: true, uniqueness: { case_sensitive: false }

    scope :active, -> { where(deleted_at: nil) }
  end

  class Team < ApplicationRecord
    has_many :team_memberships, dependent: :destroy
    has_many :users, through: :team_memberships
  end

  class TeamMembership < ApplicationRecord
    belongs_to :user
    belongs_to :team
  end

  class Workout < ApplicationRecord
    has_many :exercise_groups, -> { order(:position) }, dependent: :destroy
    has_many :exercises, through: :exercise_groups
    has_many :completed_workouts
    has_many :comments, as: :commentable
  end

  class ExerciseGroup < ApplicationRecord
    belongs_to :workout
    has_many :exercises, dependent: :destroy
  end

  class Exercise < ApplicationRecord
    belongs_to :exercise_group
    has_many :completed_exercises
  end

  class CompletedWorkout < ApplicationRecord
    belongs_to :user
    belongs_to :workout
    has_many :completed_exercises, dependent: :destroy
    has_many :comments, as: :commentable, dependent: :delete_all
  end

  class CompletedExercise < ApplicationRecord
    belongs_to :completed_workout
    belongs_to :exercise
  end

  class Diet < ApplicationRecord
    belongs_to :user
  end

  class Comment < ApplicationRecord
    belongs_to :commentable, polymorphic: true
    belongs_to :user, optional: true
  end

  class Notification < ApplicationRecord
    belongs_to :user
    scope :unread, -> { where(read_at: nil) }
  end

  class WorkoutPlan < ApplicationRecord
    belongs_to :user
  end

  MODELS = [User, Team, TeamMembership, Workout, ExerciseGroup, Exercise, CompletedWorkout,
            CompletedExercise, Diet, Comment, Notification, WorkoutPlan].freeze

  def self.days(n) = n * 86_400

  def self.seed(adapter)
    users = (1..12).map do |i|
      User.create!(email: "athlete#{i}@example.com", name: "Athlete #{i}",
                   birth_date: Date.new(1980 + i, (i % 12) + 1, 10), weight_kg: 60 + i,
                   deleted_at: i > 10 ? T0 - days(i) : nil,
                   created_at: T0 - days(100 + i), updated_at: T0 - days(i))
    end
    teams = %w[Runners Lifters Yogis].map { |name| Team.create!(name: name, created_at: T0 - days(200), updated_at: T0 - days(200)) }
    users.each_with_index do |user, i|
      TeamMembership.create!(user: user, team: teams[i % 3], role: i.zero? ? "coach" : "member")
      TeamMembership.create!(user: user, team: teams[(i + 1) % 3], role: "member") if i < 4
    end
    workouts = (1..8).map do |i|
      Workout.create!(name: "Workout #{i}", difficulty: %w[beginner intermediate advanced][i % 3],
                      duration_minutes: 20 + (5 * i), created_at: T0 - days(50 + i), updated_at: T0 - days(50 + i))
    end
    workouts.each do |workout|
      2.times do |g|
        group = ExerciseGroup.create!(workout: workout, name: "Block #{g + 1}", position: g + 1)
        2.times { |e| Exercise.create!(exercise_group: group, name: "Move #{g + 1}.#{e + 1}", sets: 3, reps: 8 + (2 * e)) }
      end
    end
    completed = []
    users.each_with_index do |user, i|
      3.times do |j|
        workout = workouts[(i + j) % 8]
        at = T0 - days(i + (3 * j)) - (3600 * j)
        completed << CompletedWorkout.create!(user: user, workout: workout, calories: 150 + (25 * ((i * (j + 1)) % 7)),
                                              duration: 20 + (5 * j), completed_at: at, created_at: at, updated_at: at)
      end
    end
    completed.each do |cw|
      cw.workout.exercises.order(:id).limit(2).each_with_index do |exercise, k|
        CompletedExercise.create!(completed_workout: cw, exercise: exercise, reps: 8 + k, weight: 20 + (5 * k))
      end
    end
    users.each_with_index do |user, i|
      Diet.create!(user: user, name: "Plan #{i + 1}", calories: 1800 + (50 * i), created_at: T0 - days(30), updated_at: T0 - days(30))
      Diet.create!(user: user, name: "Cut #{i + 1}", calories: 1600 + (50 * i), created_at: T0 - days(5), updated_at: T0 - days(5)) if i < 6
    end
    # Comments alternate between workouts and completed workouts, so every id range has both types.
    8.times do |i|
      Comment.create!(commentable: workouts[i % 4], user: users[i], body: "Great workout #{i}")
      Comment.create!(commentable: completed[i], user: users[(i + 1) % 12], body: "Well done #{i}")
    end
    users.each_with_index do |user, i|
      %w[streak reminder achievement].each_with_index do |kind, k|
        at = T0 - days(i + (10 * k))
        Notification.create!(user: user, kind: kind, payload: { "n" => i }.to_json, read_at: (i + k).even? ? at : nil,
                             push: k.even?, payload_digest: [i, k, 255].pack("C*"),
                             created_at: at, updated_at: at)
      end
    end
    users.each_with_index do |user, i|
      settings = { "level" => %w[beginner intermediate advanced][i % 3], "goal" => %w[strength endurance mobility][i % 3],
                   "equipment" => %w[mat dumbbells kettlebell band].rotate(i).first(2), "sessions_per_week" => 2 + (i % 4) }
      attrs = { user: user }
      if adapter == :postgresql
        attrs.merge!(settings: settings, tag_ids: [i % 5, (i + 1) % 5, 10 + (i % 3)].uniq)
      else
        attrs[:settings] = settings.to_json
      end
      WorkoutPlan.create!(attrs)
    end
  end

  # ---------------------------------------------------------------------------------------
  # Capture

  Statement = Struct.new(:sql, :name, keyword_init: true)

  class Recorder
    attr_reader :statements

    def initialize
      @statements = nil
      @paused = false
      @keep_transactions = false
      @subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
        record(payload)
      end
    end

    def record(payload)
      return if @statements.nil? || @paused
      return if payload[:name] == "SCHEMA" || payload[:cached]
      return if payload[:name] == "TRANSACTION" && !@keep_transactions

      @statements << Statement.new(sql: payload[:sql].dup, name: payload[:name])
    end

    def capture(keep_transactions: false)
      @statements = []
      @keep_transactions = keep_transactions
      yield
      @statements
    ensure
      @statements = nil
      @keep_transactions = false
    end

    def pause
      was = @paused
      @paused = true
      yield
    ensure
      @paused = was
    end

    def close = ActiveSupport::Notifications.unsubscribe(@subscriber)
  end

  # The receiver of each operation's block: `run` is 1 or 2, `v(a, b)` picks the run's value,
  # `uncaptured { }` runs set-up whose SQL is not part of the operation.
  class Context
    attr_reader :run, :adapter

    def initialize(run, adapter, recorder)
      @run = run
      @adapter = adapter
      @recorder = recorder
    end

    def v(first, second) = run == 1 ? first : second
    def uncaptured(&block) = @recorder.pause(&block)
    def pg? = adapter == :postgresql
    def mysql? = adapter == :mysql
    def sqlite? = adapter == :sqlite
    def at(days_ago) = T0 - VectorGen.days(days_ago)
    def connection = ActiveRecord::Base.connection
    def sanitize(*args) = ActiveRecord::Base.sanitize_sql_array(args)
  end

  Op = Struct.new(:name, :only, :keep_transactions, :block, keyword_init: true)
  OPS = []

  def self.op(name, only: nil, keep_transactions: false, &block)
    raise ArgumentError, "duplicate operation #{name}" if OPS.any? { |o| o.name == name }

    OPS << Op.new(name: name, only: only && Array(only), keep_transactions: keep_transactions, block: block)
  end
end

require_relative "vectors/operations"

module VectorGen
  # Each pass runs in a child process: the model classes cache SQL per connection (quoted table
  # names, find_by and association statement caches), so adapters must never share them.
  def self.run_pass_isolated(pass)
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      status = 0
      begin
        recorder = Recorder.new
        writer.binmode
        writer.write(Marshal.dump(run_pass(pass, recorder)))
      rescue Exception => e # reported; the child then exits 1
        warn "generate_vectors: #{pass.adapter}#{pass.label ? " (#{pass.label})" : ''} failed: #{e.class}: #{e.message}"
        warn e.backtrace.first(15).map { |l| "  #{l}" }
        status = 1
      ensure
        writer.close
      end
      exit!(status)
    end
    writer.close
    data = reader.read
    reader.close
    Process.wait(pid)
    abort "generate_vectors: #{pass.adapter} pass failed (see above)" unless $?.success?
    Marshal.load(data) # our own child's output
  end

  def self.run_pass(pass, recorder)
    connect(pass)
    define_schema(pass.adapter)
    MODELS.each(&:reset_column_information)
    MODELS.each { |m| m.columns && m.primary_key } # warm the schema cache outside capture
    ActiveRecord::Base.connection.database_version # SQLite asks for sqlite_version() lazily
    rows = []
    extend ActiveSupport::Testing::TimeHelpers
    travel_to(T0) do
      recorder.pause { seed(pass.adapter) }
      OPS.each_with_index do |op, op_index|
        next if op.only && !op.only.include?(pass.adapter)

        [1, 2].each do |run|
          context = Context.new(run, pass.adapter, recorder)
          statements = recorder.capture(keep_transactions: op.keep_transactions) { context.instance_exec(&op.block) }
          statements.each_with_index do |st, n|
            rows << { op_index: op_index, op: op.name, run: run, n: n, pass: pass.label, sql: st.sql }
          end
          rows << { op_index: op_index, op: op.name, run: run, n: -1, pass: pass.label, empty: true } if statements.empty?
        end
      end
    end
    rows
  ensure
    ActiveRecord::Base.remove_connection
  end

  def self.vector_for(adapter, row)
    dialect = adapter.to_s
    sql = row[:sql]
    name = "#{row[:op]} run #{row[:run]} ##{row[:n]}"
    name += " (#{row[:pass]})" if row[:pass]
    {
      "name" => name,
      "dialect" => dialect,
      "group" => "#{dialect}/#{row[:op]}:#{row[:n]}",
      "sql" => sql,
      "normalized" => VirtualTrainerOptimizer::SQL.normalize(sql, dialect: adapter),
      "fingerprint" => VirtualTrainerOptimizer::SQL.fingerprint(sql, dialect: adapter),
      "shape" => begin
        VirtualTrainerOptimizer::SQL.analyze(sql, dialect: adapter)
      rescue VirtualTrainerOptimizer::Error => e
        { "error" => e.class.name }
      end
    }
  end

  # Returns a list of anomaly descriptions (strings).
  def self.check(adapter, rows, vectors)
    anomalies = []
    # Statement counts per operation run.
    rows.group_by { |r| r[:op] }.each do |op, op_rows|
      per_run = op_rows.group_by { |r| [r[:pass], r[:run]] }
      counts = per_run.transform_values { |rs| rs.count { |r| !r[:empty] } }
      next if counts.values.uniq.size <= 1

      lines = per_run.map do |(pass, run), rs|
        "    run #{run}#{pass ? " (#{pass})" : ''}: #{counts[[pass, run]]} statements\n" +
          rs.reject { |r| r[:empty] }.map { |r| "      ##{r[:n]} #{r[:sql]}" }.join("\n")
      end
      anomalies << "[#{adapter}] operation #{op}: runs sent different numbers of statements\n#{lines.join("\n")}"
    end
    rows.select { |r| r[:empty] }.map { |r| r[:op] }.uniq.each do |op|
      anomalies << "[#{adapter}] operation #{op}: a run sent no SQL at all"
    end
    by_group = vectors.group_by { |v| v["group"] }
    by_group.each do |group, vs|
      next if vs.map { |v| v["fingerprint"] }.uniq.size <= 1

      detail = vs.group_by { |v| v["fingerprint"] }.map do |fp, fvs|
        "    #{fp} #{fvs.map { |v| v['name'] }.join(', ')}\n      sql:        #{fvs.first['sql']}\n      normalized: #{fvs.first['normalized']}"
      end
      anomalies << "[#{adapter}] group #{group} split across runs:\n#{detail.join("\n")}"
    end
    by_fp = vectors.group_by { |v| v["fingerprint"] }
    by_fp.each do |fp, vs|
      groups = vs.map { |v| v["group"] }.uniq
      next if groups.size <= 1

      detail = groups.map do |g|
        first = vs.find { |v| v["group"] == g }
        "    #{g} (#{first['name']})\n      sql:        #{first['sql']}\n      normalized: #{first['normalized']}"
      end
      anomalies << "[#{adapter}] fingerprint #{fp} shared by #{groups.size} groups:\n#{detail.join("\n")}"
    end
    anomalies
  end

  def self.main
    selected = ENV.fetch("VTO_VECTORS_ADAPTERS", ADAPTERS.join(",")).split(",").map { |a| a.strip.to_sym }
    unknown = selected - ADAPTERS
    abort "generate_vectors: unknown adapter(s) #{unknown.join(', ')} (known: #{ADAPTERS.join(', ')})" if unknown.any?
    selected.each { |adapter| check_reachable(adapter) }

    ActiveRecord::Base.logger = nil
    ActiveRecord::Base.belongs_to_required_by_default = true
    all_anomalies = []
    summaries = []
    selected.each do |adapter|
      rows = passes(adapter).flat_map { |pass| run_pass_isolated(pass) }
      pass_order = passes(adapter).map(&:label)
      rows.sort_by! { |r| [r[:op_index], pass_order.index(r[:pass]), r[:run], r[:n]] }
      vectors = rows.reject { |r| r[:empty] }.map { |r| vector_for(adapter, r) }
      path = File.join(OUT_DIR, "rails_#{adapter}.json")
      File.write(path, "#{JSON.pretty_generate(vectors, indent: ' ')}\n")
      anomalies = check(adapter, rows, vectors)
      all_anomalies.concat(anomalies)
      ops = rows.map { |r| r[:op] }.uniq.size
      summaries << format("%-10s %3d operations, %4d statements, %3d groups, %3d fingerprints, %2d anomalies -> %s",
                          adapter, ops, vectors.size, vectors.map { |v| v["group"] }.uniq.size,
                          vectors.map { |v| v["fingerprint"] }.uniq.size, anomalies.size,
                          path.delete_prefix("#{ROOT}/"))
    end
    unless all_anomalies.empty?
      puts "GROUPING ANOMALIES (#{all_anomalies.size}):"
      all_anomalies.each { |a| puts "", a }
      puts
    end
    puts "Summary:", summaries
    exit 2 if ENV["VTO_VECTORS_STRICT"] && !all_anomalies.empty?
  end
end

VectorGen.main if $PROGRAM_NAME == __FILE__
