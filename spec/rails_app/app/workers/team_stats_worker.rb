# frozen_string_literal: true

# A plain Sidekiq worker (no ActiveJob): calories per member, one query each.
class TeamStatsWorker
  include Sidekiq::Worker

  def perform(team_id)
    Team.find(team_id).users.map { |u| u.completed_workouts.sum(:calories) } # marker:worker
  end
end
