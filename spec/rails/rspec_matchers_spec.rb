# frozen_string_literal: true

require_relative "rails_helper"
require "virtual_trainer_optimizer/rspec"

RSpec.describe "RSpec matchers (#{VirtualTrainer::DB})" do
  describe "make_n_plus_one_queries" do
    it "passes for preloaded code and fails for a loop, listing count, SQL, call site and fix" do
      expect { User.includes(:workouts).map { |u| u.workouts.to_a } }.not_to make_n_plus_one_queries
      message = failure_of { expect { UserReport.workout_titles }.not_to make_n_plus_one_queries }
      expect(message).to start_with("expected no N+1 queries, got 1:\n  - N+1 query: #{User.count} similar queries")
      expect(message).to include(marker("report-workouts"))
      expect(message).to match(/FROM "?workouts"? WHERE "?workouts"?\."?user_id"? = \?/)
      expect(message).to include("fix: User.includes(:workouts)")
    end

    it "matches positively too" do
      expect { UserReport.diet_names }.to make_n_plus_one_queries
      expect(failure_of { expect { User.first }.to make_n_plus_one_queries })
        .to eq("expected the block to make N+1 queries, but it made none")
    end

    it "takes a threshold and patterns to ignore" do
      expect { UserReport.workout_titles }.not_to make_n_plus_one_queries.with_threshold(User.count + 1)
      expect { UserReport.workout_titles }.to make_n_plus_one_queries.with_threshold(User.count)
      expect { UserReport.workout_titles }.not_to make_n_plus_one_queries.ignoring(/workouts/)
      expect { UserReport.workout_titles }.not_to make_n_plus_one_queries.ignoring('"user_id" = ?')
      expect { make_n_plus_one_queries.with_threshold(1) }.to raise_error(ArgumentError, /Integer >= 2/)
    end
  end

  describe "make_slow_queries and make_duplicate_queries" do
    it "report queries over the given time, and the very same query twice" do
      expect { User.first }.not_to make_slow_queries(over_ms: 10_000)
      message = failure_of { expect { User.first }.not_to make_slow_queries(over_ms: 0.0001) }
      expect(message).to start_with("expected no queries slower than 0.0001 ms, got 1:\n  - slow query:")
      team_id = Team.order(:id).pick(:id)
      expect { Team.find(team_id) }.not_to make_duplicate_queries
      message = failure_of { expect { 2.times { Team.find(team_id) } }.not_to make_duplicate_queries }
      expect(message).to start_with("expected no duplicate queries, got 1:\n  - duplicate query: the same SQL and values 2 times")
      expect { make_slow_queries(over_ms: 0) }.to raise_error(ArgumentError, /positive/)
    end
  end

  describe "make_queries" do
    it "counts exactly, at most, and by pattern, without schema or transaction queries" do
      expect { User.first }.to make_queries(count: 1)
      expect { ActiveRecord::Base.transaction { User.first } }.to make_queries(count: 1)
      expect { UserReport.workout_titles }.to make_queries(at_most: User.count + 1)
      expect { UserReport.workout_titles }.to make_queries(matching: /FROM "?workouts"?/, count: User.count)
      expect { User.first }.not_to make_queries(matching: /workouts/)
    end

    it "leaves query-cache hits out unless asked" do
      id = User.order(:id).pick(:id)
      expect { ActiveRecord::Base.cache { 3.times { User.find(id) } } }.to make_queries(count: 1)
      expect { ActiveRecord::Base.cache { 3.times { User.find(id) } } }.to make_queries(count: 3).including_cached
    end

    it "fails with the normalized queries it saw, never their values" do
      message = failure_of { expect { UserReport.workout_titles }.to make_queries(at_most: 2) }
      expect(message).to start_with("expected the block to make at most 2 queries, but it made #{User.count + 1}:")
      expect(message).to match(/#{User.count}x SELECT "?workouts"?\.\* FROM "?workouts"? WHERE .* = \?/)
      expect(message).not_to match(/= \d/)
      expect { make_queries }.to raise_error(ArgumentError, /count:, at_most: or matching:/)
    end
  end

  describe "perform_constant_queries" do
    def add_users(count)
      team = Team.create!(name: "Scale #{count}")
      count.times do |i|
        user = team.users.create!(email: "scale#{count}-#{i}@example.com", name: "Scale #{i}")
        user.workouts.create!(title: "Scaled", duration_minutes: 20)
      end
    end

    it "passes when the query count does not grow, and leaves no data behind" do
      users = User.count
      expect { get "/api/users?fixed=1" }.to perform_constant_queries.with_scale(2, 5) { |n| add_users(n) }
      expect(User.count).to eq(users)
      expect { |n| User.limit(n).to_a }.to perform_constant_queries.with_scale(1, 3) { |n| add_users(n) }
    end

    it "fails with the counts per size, the statements that grew and the N+1 behind them" do
      message = failure_of do
        expect { get "/api/users" }.to perform_constant_queries.with_scale(5, 2) { |n| add_users(n) }
      end
      base = User.count
      expect(message).to start_with("expected the number of queries not to grow with the data, but it went " \
                                    "#{base + 3} at n = 2, #{base + 6} at n = 5\n" \
                                    "queries that grew (n = 2 -> n = 5):\n  #{base + 2} -> #{base + 5}  SELECT")
      expect(message).to match(/-> #{base + 5}  SELECT "?workouts"?\.\* FROM "?workouts"? WHERE "?workouts"?\."?user_id"? = \?/)
      expect(message).to include("N+1 queries at n = 5:\n  - N+1 query: #{base + 5} similar queries")
      expect(message).to include(marker("has-many"), "fix: User.includes(:workouts)")
      expect(message).not_to match(/"\s*=\s*\d/)
    end

    it "negates, ignores patterns, and checks its arguments" do
      expect(failure_of { expect { User.first }.not_to perform_constant_queries.with_scale(1, 2) { |n| add_users(n) } })
        .to eq("expected the number of queries to grow with the data, but it did not: 1 at n = 1, 1 at n = 2")
      expect { UserReport.workout_titles }.not_to perform_constant_queries.with_scale(1, 2) { |n| add_users(n) }
      expect { UserReport.workout_titles }
        .to perform_constant_queries.ignoring(/FROM "?workouts"?/).with_scale(1, 2) { |n| add_users(n) }
      expect { expect { User.first }.to perform_constant_queries }.to raise_error(ArgumentError, /with_scale/)
      expect { expect { User.first }.to perform_constant_queries.with_scale(2) { nil } }
        .to raise_error(ArgumentError, /two or more distinct positive Integers, got \[2\]/)
      expect { expect { User.first }.to perform_constant_queries.with_scale(1, 2) }
        .to raise_error(ArgumentError, /block that creates the data/)
    end

    it "runs inside a transactional-fixture transaction, each size in a rolled-back savepoint" do
      users = User.count
      ActiveRecord::Base.transaction do
        add_users(1)
        expect { get "/api/users?fixed=1" }.to perform_constant_queries.with_scale(1, 4) { |n| add_users(n) }
        expect(User.count).to eq(users + 1)
        raise ActiveRecord::Rollback
      end
      expect(User.count).to eq(users)
    end

    it "warms up once, uncounted, unless told not to" do
      calls = []
      expect { |n| calls << n }.to perform_constant_queries.with_scale(1, 2) { nil }
      expect(calls).to eq([1, 1, 2])
      calls.clear
      expect { |n| calls << n }.to perform_constant_queries.without_warming_up.with_scale(1, 2) { nil }
      expect(calls).to eq([1, 2])
    end
  end
end
