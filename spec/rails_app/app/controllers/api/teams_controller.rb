# frozen_string_literal: true

module Api
  class TeamsController < BaseController
    # An N+1 nested inside an includes: users are preloaded, their diets are not.
    def nested
      teams = Team.includes(:users).order(:id)
      render json: teams.map { |t| t.users.map { |u| u.diets.to_a.size } } # marker:nested
    end

    # The very same query three times: a duplicate (cache candidate). The
    # request's query cache would answer the repeats, so it is bypassed here,
    # as code that reloads after writes or runs outside the cache does.
    def duplicate
      team_id = Team.order(:id).pick(:id)
      names = Team.uncached { 3.times.map { Team.find(team_id).name } } # marker:duplicate
      render json: names
    end

    # Over its budget (the spec sets a 1 ms budget for this action).
    def slow
      sleep 0.02
      render json: Team.count
    end
  end
end
