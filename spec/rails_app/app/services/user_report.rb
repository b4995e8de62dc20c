# frozen_string_literal: true

# Used by the thread specs: each method has its own loop.
module UserReport
  def self.workout_titles
    User.order(:id).map { |u| u.workouts.map(&:title) } # marker:report-workouts
  end

  def self.diet_names
    User.order(:id).map { |u| u.diets.map(&:name) } # marker:report-diets
  end
end
