# frozen_string_literal: true

# Each member's weekly calories, one query per member.
class WeeklySummaryJob < ApplicationJob
  queue_as :default

  def perform(team_id)
    Team.find(team_id).users.each do |user|
      calories = user.completed_workouts.where(created_at: 1.week.ago..).sum(:calories)
      user.notifications.create!(title: "You burned #{calories} kcal this week")
    end
  end
end
