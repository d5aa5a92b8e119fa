# Which Python the studio's scripts use; install.sh, app.sh and test.sh source this from the repository root.
#   PYTHON set:        that interpreter, as it is (no virtual environment is made, no stamp is kept)
#   VIRTUAL_ENV set:   the active virtual environment's python
#   CONDA_PREFIX set:  the active conda environment's python
#   otherwise:         the project's own virtual environment .venv/, which install.sh makes with `python3 -m venv`
# Sets STUDIO_PYTHON (the interpreter to run), STUDIO_ENV (the environment's folder, where install.sh keeps
# its stamp; empty for PYTHON), STUDIO_ENV_NAME (how messages name it) and STUDIO_OWN_VENV (1 for .venv/).
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
STUDIO_OWN_VENV=0
if [ -n "${PYTHON:-}" ]; then
  STUDIO_PYTHON=$PYTHON
  STUDIO_ENV=
  STUDIO_ENV_NAME=$PYTHON
elif [ -n "${VIRTUAL_ENV:-}" ]; then
  STUDIO_PYTHON=$VIRTUAL_ENV/bin/python
  STUDIO_ENV=$VIRTUAL_ENV
  STUDIO_ENV_NAME="the active virtual environment $VIRTUAL_ENV"
elif [ -n "${CONDA_PREFIX:-}" ]; then
  STUDIO_PYTHON=$CONDA_PREFIX/bin/python
  STUDIO_ENV=$CONDA_PREFIX
  STUDIO_ENV_NAME="the active conda environment $CONDA_PREFIX"
else
  STUDIO_PYTHON=$PWD/.venv/bin/python
  STUDIO_ENV=$PWD/.venv
  STUDIO_ENV_NAME=.venv
  STUDIO_OWN_VENV=1
fi
