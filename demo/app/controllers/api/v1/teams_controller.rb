# frozen_string_literal: true

module Api
  module V1
    class TeamsController < BaseController
      # Team statistics: a COUNT and a SUM per member, in a loop.
      def statistics
        team = Team.find(params[:id])
        render json: team.users.map { |user|
          { user: user.name, workouts: user.completed_workouts.count, calories: user.completed_workouts.sum(:calories) }
        }
      end
    end
  end
end
