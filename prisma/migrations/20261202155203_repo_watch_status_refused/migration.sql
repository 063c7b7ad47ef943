-- AlterEnum
ALTER TYPE "RepoWatchStatus" ADD VALUE 'refused';
