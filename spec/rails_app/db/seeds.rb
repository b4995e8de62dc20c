# frozen_string_literal: true

# Two teams of two users; each user has a profile, diets, two workouts of two
# exercise groups of two exercises, completed workouts and comments.
[Comment, CompletedExercise, CompletedWorkout, Exercise, ExerciseGroup, Workout, Diet, Profile, User, Team].each(&:delete_all)

2.times do |t|
  team = Team.create!(name: "Team #{t + 1}")
  2.times do |u|
    user = team.users.create!(email: "user#{t}#{u}@example.com", name: "User #{t}#{u}")
    user.create_profile!(goal: "strength", weight_kg: 70 + u)
    2.times { |d| user.diets.create!(name: "Diet #{d}", calories: 2000 + d) }
    2.times do |w|
      workout = user.workouts.create!(title: "Workout #{t}#{u}#{w}", duration_minutes: 30)
      2.times do |g|
        group = workout.exercise_groups.create!(name: "Group #{g}")
        2.times { |e| group.exercises.create!(name: "Exercise #{e}", reps: 10) }
      end
      done = user.completed_workouts.create!(workout: workout, calories: 300)
      workout.exercises.each { |ex| done.completed_exercises.create!(exercise: ex, reps: 10) }
      Comment.create!(commentable: workout, user: user, body: "Nice")
    end
  end
end
