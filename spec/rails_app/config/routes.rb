# frozen_string_literal: true

Rails.application.routes.draw do
  namespace :api do
    get "users" => "users#index"
    get "users/preloaded" => "users#preloaded"
    get "users/profiles" => "users#profiles"
    get "users/counts" => "users#counts"
    get "users/batches" => "users#batches"
    get "users/batches_per_record" => "users#batches_per_record"
    get "users/two_sites" => "users#two_sites"
    get "users/exists" => "users#exists"
    get "workouts" => "workouts#index"
    get "workouts/exercises" => "workouts#exercises"
    get "workouts/lookup" => "workouts#lookup"
    get "comments" => "comments#index"
    get "teams/nested" => "teams#nested"
    get "teams/duplicate" => "teams#duplicate"
    get "teams/slow" => "teams#slow"
    post "completed_workouts/import" => "completed_workouts#import"
  end
  get "teams" => "teams#index"
end
