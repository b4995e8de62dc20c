# frozen_string_literal: true

# bin/demo: runs a slice of Virtual Trainer's data access through ActiveRecord on
# an in-memory SQLite database, captures every SQL statement Rails sends, and
# groups them by fingerprint, the way the detector will.

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

captured = []
subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
  captured << payload[:sql] unless payload[:name] == "SCHEMA" || payload[:cached]
end

# A dashboard as a controller would render it: each user's recent workouts, the
# obvious way (one query per user, one per workout), then the preloaded way.
User.order(:id).each do |user|
  user.completed_workouts.order(created_at: :desc).limit(3).each { |cw| cw.workout.name }
end
User.includes(completed_workouts: :workout).order(:id).each do |user|
  user.completed_workouts.each { |cw| cw.workout.name }
end
User.where(email: users.map(&:email)).count
User.where("email LIKE ?", "%@example.com").count
ActiveSupport::Notifications.unsubscribe(subscriber)

groups = captured.group_by { |sql| VirtualTrainerOptimizer::SQL.fingerprint(sql, dialect: :sqlite3) }
puts "virtual_trainer_optimizer #{VirtualTrainerOptimizer::VERSION}: " \
     "#{captured.size} queries from ActiveRecord on SQLite, #{groups.size} distinct shapes\n\n"
puts format("%-16s  %5s  %s", "fingerprint", "runs", "normalized SQL")
groups.sort_by { |_, sqls| -sqls.size }.each do |fingerprint, sqls|
  normalized = VirtualTrainerOptimizer::SQL.normalize(sqls.first, dialect: :sqlite3)
  marker = sqls.size > 1 ? "  <- one shape, #{sqls.size} runs" : ""
  puts format("%-16s  %5d  %s%s", fingerprint, sqls.size, normalized, marker)
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
