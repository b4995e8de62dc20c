# frozen_string_literal: true

Rails.application.routes.draw do
  namespace :api do
    namespace :v1 do
      get "completed_workouts" => "completed_workouts#index"
      get "workouts" => "workouts#index"
      get "workouts/:id" => "workouts#show"
      get "teams/:id/statistics" => "teams#statistics"
      get "notifications" => "notifications#index"
      post "health_programs" => "health_programs#create"
    end
  end
  get "dashboard" => "dashboard#show"
end
