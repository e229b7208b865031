// Plays the part of Sabaki against a GTP engine, with Sabaki's own GTP library:
// the start-up queries, a board sync (setup stones as consecutive same-colour plays),
// genmove, lz-analyze interrupted by the next command, as Sabaki's analysis mode does, and
// Sabaki's own analyze / genmove_analyze.
// Usage: node drive.js ENGINE [ARGS...]; prints one JSON object with what was seen.
const {Controller, ControllerStateTracker, Command} = require('@sabaki/gtp')

async function main() {
  const [path, ...args] = process.argv.slice(2)
  const controller = new Controller(path, args)
  const tracker = new ControllerStateTracker(controller)
  const seen = {}
  controller.start()
  const ask = async (name, ...cmdArgs) => {
    const response = await controller.sendCommand({name, args: cmdArgs})
    if (response.error) throw new Error(`${name} failed: ${response.content}`)
    return response.content
  }
  seen.name = await ask('name')
  seen.version = await ask('version')
  seen.protocol = await ask('protocol_version')
  seen.commands = (await ask('list_commands')).split('\n')
  for (const name of ['lz-analyze', 'genmove', 'undo', 'komi']) {
    seen[`knows_${name}`] = await tracker.knowsCommand(name)
  }
  await tracker.sync({
    komi: 6.5,
    boardsize: [9, 9],
    timeSettings: null,
    history: [
      Command.fromString('play B C3'), Command.fromString('play B G7'),  // setup stones
      Command.fromString('play W E5'), Command.fromString('play B C7'),
    ],
  })
  seen.board = await ask('showboard')
  seen.genmove = await ask('genmove', 'W')
  const lines = []
  const analysis = controller.sendCommand({name: 'lz-analyze', args: ['B', '20']}, evt => {
    if (evt.line.startsWith('info')) lines.push(evt.line)
  })
  await new Promise(resolve => setTimeout(resolve, 1500))
  seen.after_analysis = await ask('name')  // any input stops the analysis
  await analysis
  seen.analysis_lines = lines.length
  seen.first_analysis = lines[0] || ''
  // Sabaki's own analysis commands (docs/guides/engine-analysis-integration.md):
  // analyze <color> <interval>, stopped by the next command, here genmove_analyze, whose
  // response ends with 'play <vertex>'
  const sabakiLines = []
  const sabakiAnalysis = controller.sendCommand({name: 'analyze', args: ['B', '20']}, evt => {
    if (evt.line.startsWith('info')) sabakiLines.push(evt.line)
  })
  await new Promise(resolve => setTimeout(resolve, 1500))
  const generatedLines = []
  const generated = await controller.sendCommand(
    {name: 'genmove_analyze', args: ['B', '10']},
    evt => { if (evt.line.startsWith('info')) generatedLines.push(evt.line) })
  await sabakiAnalysis
  seen.analyze_lines = sabakiLines.length
  seen.first_analyze = sabakiLines[0] || ''
  seen.genmove_analyze_error = generated.error
  seen.genmove_analyze_lines = generatedLines.length
  seen.genmove_analyze_last = generated.content.split('\n').pop()
  seen.board_after = await ask('showboard')
  const response = await controller.sendCommand({name: 'play', args: ['B', 'Z99']})
  seen.bad_move_error = response.error
  await controller.stop()
  console.log(JSON.stringify(seen))
}

main().catch(err => {
  console.error(err.stack || String(err))
  process.exit(1)
})
