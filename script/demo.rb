# frozen_string_literal: true

# bin/demo: runs a slice of Virtual Trainer's data access through ActiveRecord on
# an in-memory SQLite database inside VirtualTrainerOptimizer.scan, prints what
# the detector reports (call site and fix), then every statement grouped by
# fingerprint with its parsed shape.

require "logger"
require "active_record"
require "virtual_trainer_optimizer"

ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
ActiveRecord::Migration.verbose = false

ActiveRecord::Schema.define do
  create_table :users do |t|
    t.string :email, null: false
    t.string :name
    t.timestamps
  end
  create_table :workouts do |t|
    t.string :name, null: false
    t.integer :duration_minutes
    t.timestamps
  end
  create_table :completed_workouts do |t|
    t.references :user, null: false
    t.references :workout, null: false
    t.integer :calories
    t.timestamps
  end
end

class User < ActiveRecord::Base
  has_many :completed_workouts
end

class Workout < ActiveRecord::Base
  has_many :completed_workouts
end

class CompletedWorkout < ActiveRecord::Base
  belongs_to :user
  belongs_to :workout
end

users = Array.new(5) { |i| User.create!(email: "athlete#{i}@example.com", name: "Athlete #{i}") }
workouts = %w[Squats Intervals Yoga].map { |name| Workout.create!(name: name, duration_minutes: 30) }
users.each_with_index do |user, i|
  3.times { |j| CompletedWorkout.create!(user: user, workout: workouts[(i + j) % 3], calories: 200 + (10 * j)) }
end

VirtualTrainerOptimizer.configure do |c|
  c.dialect = :sqlite
  c.logger = false # printed below instead
end

captured = []
subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
  captured << payload[:sql] unless payload[:name] == "SCHEMA" || payload[:cached]
end

# A dashboard as a controller would render it: each user's recent workouts, the
# obvious way (one query per user, one per workout), with a COUNT per user.
def dashboard
  User.order(:id).map do |user|
    recent = user.completed_workouts.order(created_at: :desc).limit(3).map { |cw| cw.workout.name }
    [user.name, recent, user.completed_workouts.count]
  end
end

# The same page, preloaded: three queries whatever the number of users.
def dashboard_preloaded
  User.includes(completed_workouts: :workout).order(:id).map do |user|
    recent = user.completed_workouts.sort_by(&:created_at).last(3).map { |cw| cw.workout.name }
    [user.name, recent, user.completed_workouts.size]
  end
end

slow = VirtualTrainerOptimizer.scan("dashboard") { dashboard }
fast = VirtualTrainerOptimizer.scan("dashboard, preloaded") { dashboard_preloaded }
User.where(email: users.map(&:email)).count
User.where("email LIKE ?", "%@example.com").count
ActiveSupport::Notifications.unsubscribe(subscriber)

puts "virtual_trainer_optimizer #{VirtualTrainerOptimizer::VERSION}: a Virtual Trainer dashboard on SQLite\n\n"
puts "The dashboard ran #{slow.queries} queries; the detector reports:"
slow.findings.each do |f|
  puts "- #{f.kind} (#{f.priority}, #{f.count}x) at #{f.location}"
  puts "    #{f.sql}"
  puts "    fix: #{f.suggestion}"
end
puts "\nPreloaded, it runs #{fast.queries} queries and the detector reports #{fast.findings.size} findings.\n\n"

groups = captured.group_by { |sql| VirtualTrainerOptimizer::SQL.fingerprint(sql, dialect: :sqlite3) }
puts "#{captured.size} queries in all, #{groups.size} distinct shapes:"
puts format("%-16s  %5s  %s", "fingerprint", "runs", "normalized SQL")
groups.sort_by { |_, sqls| -sqls.size }.each do |fingerprint, sqls|
  normalized = VirtualTrainerOptimizer::SQL.normalize(sqls.first, dialect: :sqlite3)
  puts format("%-16s  %5d  %s", fingerprint, sqls.size, normalized)
end
puts "\nExample raw statement:  #{captured.first}"
puts "Its normalized form:    #{VirtualTrainerOptimizer::SQL.normalize(captured.first, dialect: :sqlite3)}"

puts "\nWhat the shapes show (SQL.analyze, parsed once per fingerprint):"
groups.each_value do |sqls|
  shape = VirtualTrainerOptimizer::SQL.analyze(sqls.first, dialect: :sqlite3)
  filters = shape["predicates"].map { |p| "#{p['table']}.#{p['column']} #{p['op']}" }
  puts "- #{shape['tables'].map { |t| t['name'] }.join(', ')}: " \
       "#{filters.empty? ? 'no filter' : "filters #{filters.join(', ')}"}"
  shape["lints"].each { |lint| puts "    #{lint['code']}: #{lint['message']} -- #{lint['why']}" }
end
