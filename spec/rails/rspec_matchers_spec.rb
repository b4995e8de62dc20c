# frozen_string_literal: true

require_relative "rails_helper"
require "virtual_trainer_optimizer/rspec"

RSpec.describe "RSpec matchers (#{VirtualTrainer::DB})" do
  def failure_of
    yield
    raise "expected the expectation to fail"
  rescue RSpec::Expectations::ExpectationNotMetError => e
    e.message
  end

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
end
