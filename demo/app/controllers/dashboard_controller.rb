# frozen_string_literal: true

# The web dashboard: its queries are fine, its time goes to rendering.
class DashboardController < ApplicationController
  def show
    @user = current_user
    @workouts = @user.workouts.includes(exercise_groups: :exercises).order(:id).to_a
  end
end
