# frozen_string_literal: true

# Run by spec/rails/minitest_spec.rb, under Minitest itself, in its own
# process (and its own database).
require_relative "../../rails_app/config/test_boot"
require "minitest/autorun"
require "virtual_trainer_optimizer/minitest"

# The CI summary prints once the tests have run (Minitest.after_run).
VirtualTrainerOptimizer.configure do |c|
  c.ci_summary = true
  c.logger = false
end

class AssertionsTest < Minitest::Test
  def failure
    yield
    flunk "expected the assertion to fail"
  rescue Minitest::Assertion => e
    e.message
  end

  def test_no_n_plus_one
    assert_no_n_plus_one { User.includes(:workouts).map { |u| u.workouts.to_a } }
    message = failure { assert_no_n_plus_one { UserReport.workout_titles } }
    assert_match(/\Aexpected no N\+1 queries, got 1:\n  - N\+1 query: #{User.count} similar queries/, message)
    assert_includes message, "app/services/user_report.rb:6"
    assert_includes message, "fix: User.includes(:workouts)"
    assert_no_n_plus_one(threshold: User.count + 1) { UserReport.workout_titles }
  end

  def test_query_counts
    assert_queries(1) { User.first }
    assert_max_queries(User.count + 1) { UserReport.workout_titles }
    message = failure { assert_queries(2) { UserReport.workout_titles } }
    assert_match(/\Aexpected the block to make exactly 2 queries, but it made #{User.count + 1}:/, message)
    assert_match(/#{User.count}x SELECT "?workouts"?\.\* FROM "?workouts"? WHERE .* = \?/, message)
    message = failure { assert_max_queries(1) { UserReport.workout_titles } }
    assert_match(/\Aexpected the block to make at most 1 queries, but it made #{User.count + 1}:/, message)
    id = User.order(:id).pick(:id)
    assert_queries(3, including_cached: true) { ActiveRecord::Base.cache { 3.times { User.find(id) } } }
  end

  def add_users(count)
    team = Team.create!(name: "Scale #{count}")
    count.times { |i| team.users.create!(email: "mt#{count}-#{i}@example.com", name: "Scale #{i}") }
  end

  def test_constant_queries
    users = User.count
    assert_constant_queries(scale: [1, 3], populate: ->(n) { add_users(n) }) { User.includes(:workouts).to_a }
    assert_equal users, User.count
    message = failure do
      assert_constant_queries(scale: [1, 3], populate: ->(n) { add_users(n) }) { UserReport.workout_titles }
    end
    assert_match(/\Aexpected the number of queries not to grow with the data, but it went #{users + 2} at n = 1, #{users + 4} at n = 3\n/, message)
    assert_includes message, "N+1 queries at n = 3:\n  - N+1 query: #{users + 3} similar queries"
    assert_includes message, "fix: User.includes(:workouts)"
    assert_raises(ArgumentError) { assert_constant_queries(scale: [3], populate: ->(_) {}) { User.first } }
  end

  def test_no_slow_queries
    assert_no_slow_queries(over_ms: 10_000) { User.first }
    message = failure { assert_no_slow_queries(over_ms: 0.0001) { User.first } }
    assert_match(/\Aexpected no queries slower than 0.0001 ms, got 1:\n  - slow query:/, message)
    assert_raises(ArgumentError) { assert_no_slow_queries(over_ms: 0) { User.first } }
  end
end
